package email

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/adapters/email/pec"
	"github.com/sportello/sportello/adapters/email/pec/pectest"
	"github.com/sportello/sportello/channels"
)

// Anyone who can put mail into a PEC box (an IMAP APPEND by one of its users skips the
// provider) can write a receipt. Only one whose provider signature verifies against a trusted
// root, and whose signed daticert.xml certifies the same type and message as the unsigned
// headers, sets a delivery state; every other is still handed on, as a note and attachment.
func TestPECReceiptSetsDeliveryOnlyWhenTheProviderVouchesForIt(t *testing.T) {
	prov, err := pectest.NewProvider("Gestore di Prova S.p.A.", "pec.prova.example")
	if err != nil {
		t.Fatal(err)
	}
	roots := providerRoots(t, prov)
	build := func(tipo string, mutate func(pectest.Spec) pectest.Spec) []byte {
		t.Helper()
		spec := pectest.Spec{Tipo: tipo, Mittente: "Protocollo@pec.comune.fi.it", To: "mario.rossi@pec.prova.example", Oggetto: "Re: Richiesta",
			Identificativo: "opec-" + tipo + "@pec.prova.example", MsgID: "reply-1@sportello.example", Consegna: "mario.rossi@pec.prova.example"}
		if mutate != nil {
			spec = mutate(spec)
		}
		raw, err := prov.Build(spec)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	// rewrite changes a top-level header, which the provider's signature does not cover.
	rewrite := func(raw []byte, from, to string) []byte {
		t.Helper()
		out := bytes.Replace(raw, []byte(from), []byte(to), 1)
		if bytes.Equal(out, raw) {
			t.Fatalf("%q not in the receipt", from)
		}
		return out
	}
	forged := []byte("From: posta-certificata@forged.example\r\nTo: protocollo@pec.comune.fi.it\r\n" +
		"Subject: AVVISO DI MANCATA CONSEGNA\r\nMessage-ID: <forged-1@forged.example>\r\n" +
		"X-Ricevuta: errore-consegna\r\nX-Riferimento-Message-ID: <reply-1@sportello.example>\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nIl messaggio non e' stato consegnato.\r\n")
	failure := build(pec.TipoErroreConsegna, nil)

	cases := []struct {
		name     string
		raw      []byte
		roots    bool
		delivery string
		why      string
	}{
		{"unsigned, without daticert.xml", forged, true, "", "firma del gestore PEC assente"},
		{"unsigned, with daticert.xml", build(pec.TipoErroreConsegna, func(s pectest.Spec) pectest.Spec { s.Unsigned = true; return s }), true, "", "firma del gestore PEC assente"},
		{"signed, content changed after signing", build(pec.TipoErroreConsegna, func(s pectest.Spec) pectest.Spec { s.Tamper = true; return s }), true, "", "firma del gestore PEC non valida"},
		{"signed by a provider no configured root vouches for", failure, false, "", "firma del gestore PEC corretta, ma"},
		{"X-Ricevuta rewritten on a genuine acceptance", rewrite(build(pec.TipoAccettazione, nil), "X-Ricevuta: accettazione", "X-Ricevuta: errore-consegna"),
			true, "", `daticert.xml certifica "accettazione"`},
		{"X-Riferimento-Message-ID rewritten on a genuine failure", rewrite(failure, "<reply-1@sportello.example>", "<reply-2@sportello.example>"),
			true, "", "non è il msgid certificato"},
		{"genuine failure", failure, true, channels.DeliveryFailed, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var pool = roots
			if !tc.roots {
				pool = nil
			}
			res, err := readPEC(DefaultParse(0), tc.raw, pool, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			r := res.receipt
			if r == nil {
				t.Fatal("a receipt was not read as one: it would become a contact")
			}
			if r.Delivery != tc.delivery {
				t.Errorf("delivery %q, want %q (note %q)", r.Delivery, tc.delivery, r.Note)
			}
			if !bytes.Equal(r.Attachment.Data, tc.raw) || r.Type != pec.TipoErroreConsegna || !strings.HasPrefix(r.Note, "Ricevuta PEC di errore consegna") {
				t.Errorf("the receipt must still be kept and shown: type %q, note %q, %d bytes attached", r.Type, r.Note, len(r.Attachment.Data))
			}
			if tc.why == "" {
				if res.distrust != "" || strings.Contains(r.Note, "non considerata") || r.CertifiedSender != "protocollo@pec.comune.fi.it" ||
					r.RefMessageID != "reply-1@sportello.example" {
					t.Errorf("a vouched-for receipt: distrust %q, note %q, sender %q, ref %q", res.distrust, r.Note, r.CertifiedSender, r.RefMessageID)
				}
				return
			}
			if !strings.Contains(res.distrust, tc.why) || !strings.Contains(r.Note, " — non considerata per lo stato di consegna: ") ||
				!strings.Contains(r.Note, tc.why) {
				t.Errorf("why: distrust %q, note %q, want %q", res.distrust, r.Note, tc.why)
			}
			if r.CertifiedSender != "" {
				t.Errorf("an untrusted receipt certifies no sender: %q", r.CertifiedSender)
			}
		})
	}
}
