package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/sportello/sportello/adapters/email/pec"
	"github.com/sportello/sportello/adapters/email/pec/pectest"
	"github.com/sportello/sportello/channels"
)

type memReceipts struct {
	mu    sync.Mutex
	got   []channels.DeliveryReceipt
	known map[string]bool
}

func (m *memReceipts) DeliveryReceipt(_ context.Context, r channels.DeliveryReceipt) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, r)
	if !m.known[r.RefMessageID] {
		return "", channels.ErrUnknownMessage
	}
	return "c1", nil
}

func (m *memReceipts) list() []channels.DeliveryReceipt {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]channels.DeliveryReceipt(nil), m.got...)
}

func TestPECBoxEnvelopesReceiptsAnomaliesAndOrdinaryMail(t *testing.T) {
	prov, err := pectest.NewProvider("Gestore di Prova S.p.A.", "pec.prova.example")
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 11, 27, 9, 15, 30, 0, time.FixedZone("", 3600))
	orig := pectest.Original("Mario Rossi <Mario.Rossi@pec.prova.example>", "protocollo@pec.comune.fi.it", "Richiesta accesso agli atti",
		"Chiedo copia della delibera n. 12.", "orig-1@pec.prova.example", "delega.pdf", []byte("%PDF-1.4 delega"))
	envelope, err := prov.Build(pectest.Spec{Tipo: pec.TipoPostaCertificata, Mittente: "mario.rossi@pec.prova.example",
		To: "protocollo@pec.comune.fi.it", Oggetto: "Richiesta accesso agli atti", Original: orig,
		Identificativo: "opec1@pec.prova.example", MsgID: "orig-1@pec.prova.example", Date: when})
	if err != nil {
		t.Fatal(err)
	}
	accept, err := prov.Build(pectest.Spec{Tipo: pec.TipoAccettazione, Mittente: "protocollo@pec.comune.fi.it", To: "mario.rossi@pec.prova.example",
		Oggetto: "Re: Richiesta", Identificativo: "opec2@pec.prova.example", MsgID: "reply-1@sportello.example", Date: when})
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := prov.Build(pectest.Spec{Tipo: pec.TipoAvvenutaConsegna, Mittente: "protocollo@pec.comune.fi.it", To: "x@pec.prova.example",
		Identificativo: "opec3@pec.prova.example", MsgID: "not-ours@elsewhere.example", Consegna: "x@pec.prova.example", Date: when})
	if err != nil {
		t.Fatal(err)
	}
	anomaly, err := prov.Build(pectest.Spec{Anomaly: true, Mittente: "spam@ordinaria.example", To: "protocollo@pec.comune.fi.it",
		Oggetto: "Offerta", Original: pectest.Original("spam@ordinaria.example", "protocollo@pec.comune.fi.it", "Offerta", "Compra!", "spam-1@ordinaria.example", "", nil),
		MessageID: "opec4@pec.prova.example", MsgID: "spam-1@ordinaria.example", Date: when})
	if err != nil {
		t.Fatal(err)
	}
	srv := startIMAP(t)
	other := srv.client(t)
	for _, m := range [][]byte{envelope, accept, stranger, anomaly, []byte(italianMail("plain-1@example.it", "anna@example.it", "protocollo@pec.comune.fi.it", "Ciao", "testo"))} {
		appendMail(t, other, "INBOX", string(m))
	}
	sink := newMemSink()
	receipts := &memReceipts{known: map[string]bool{"reply-1@sportello.example": true}}
	_, stop := runPoller(t, IMAPOptions{Comune: "firenze", Address: srv.addr, Sink: sink, State: newMemUIDs(), IdleRefresh: time.Second,
		PEC: true, PECRoots: providerRoots(t, prov), Receipts: receipts})
	waitFor(t, 5*time.Second, "3 contacts and 2 receipts", func() bool { return len(sink.stored()) == 3 && len(receipts.list()) == 2 })
	stop()

	got := sink.stored()
	env := got[0]
	if env.Channel != channels.PEC || env.From != "mario.rossi@pec.prova.example" || env.Subject != "Richiesta accesso agli atti" ||
		!strings.Contains(env.Body, "delibera n. 12") || env.ExternalID != "opec1@pec.prova.example" || env.MessageID != "orig-1@pec.prova.example" {
		t.Errorf("envelope contact: channel %s from %q subject %q body %q ext %q mid %q", env.Channel, env.From, env.Subject, env.Body, env.ExternalID, env.MessageID)
	}
	if env.PEC == nil || env.PEC.ID != "opec1@pec.prova.example" || env.PEC.Provider != "Gestore di Prova S.p.A." ||
		env.PEC.Sender != "mario.rossi@pec.prova.example" || env.PEC.SentAt == nil || !env.PEC.SentAt.Equal(when) || env.PEC.Anomaly {
		t.Errorf("certification: %+v", env.PEC)
	}
	if env.PEC.Signature != "valid" {
		t.Errorf("signature %q", env.PEC.Signature)
	}
	var names []string
	var kept []byte
	for _, a := range env.Attachments {
		names = append(names, a.Filename)
		if a.Filename == EnvelopeFilename {
			kept = a.Data
		}
	}
	if strings.Join(names, ",") != "delega.pdf,envelope.eml" {
		t.Errorf("attachments %v", names)
	}
	// The envelope kept is the bytes in the mailbox, and its hash is theirs.
	sum := sha256.Sum256(envelope)
	if !bytes.Equal(kept, envelope) || env.PEC.EnvelopeSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("evidence: %d bytes kept of %d, hash %s", len(kept), len(envelope), env.PEC.EnvelopeSHA256)
	}
	if an := got[1]; an.Channel != channels.PEC || an.PEC == nil || !an.PEC.Anomaly || an.From != "spam@ordinaria.example" || an.Subject != "Offerta" {
		t.Errorf("anomaly: %+v", an)
	}
	if plain := got[2]; plain.Channel != channels.Email || plain.PEC != nil {
		t.Errorf("ordinary mail in a PEC box stays email: %+v", plain)
	}
	rs := receipts.list()
	if rs[0].Type != "accettazione" || rs[0].Delivery != channels.DeliveryAccepted || rs[0].RefMessageID != "reply-1@sportello.example" ||
		rs[0].Comune != "firenze" || rs[0].CertifiedSender != "protocollo@pec.comune.fi.it" || strings.Contains(rs[0].Note, "non considerata") ||
		!bytes.Equal(rs[0].Attachment.Data, accept) || rs[0].Attachment.Filename != "ricevuta-accettazione.eml" || !strings.Contains(rs[0].Note, "Gestore di Prova") {
		t.Errorf("receipt: %+v", rs[0])
	}
	if rs[1].Delivery != channels.DeliveryDelivered || rs[1].Comune != "firenze" {
		t.Errorf("second receipt: %+v", rs[1])
	}
	// Everything, the receipt about someone else's message included, is taken off the new mail.
	for uid, fs := range flagsOf(t, other, "INBOX") {
		if !hasFlag(fs, imap.FlagSeen) {
			t.Errorf("UID %d not flagged \\Seen", uid)
		}
	}
}

// providerRoots trusts the test provider's CA, as email.pec_trusted_roots does a real one's.
func providerRoots(t *testing.T, prov *pectest.Provider) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(prov.RootPEM()) {
		t.Fatal("the test provider's root did not load")
	}
	return pool
}

func TestPECBoxNeedsAReceiptSink(t *testing.T) {
	_, err := NewIMAPPoller(IMAPOptions{Comune: "firenze", Address: "127.0.0.1:1", Username: "u", Sink: newMemSink(), State: newMemUIDs(), PEC: true})
	if err == nil {
		t.Fatal("a PEC box without a receipt sink was accepted")
	}
}

func TestPECEnvelopeWithoutOriginalKeepsTheEnvelope(t *testing.T) {
	prov, err := pectest.NewProvider("G", "pec.g.example")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := prov.Build(pectest.Spec{Tipo: pec.TipoPostaCertificata, Mittente: "Anna@pec.g.example", To: "p@pec.comune.it", Oggetto: "Senza allegato",
		Identificativo: "opec9@pec.g.example", MsgID: "o9@pec.g.example"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := readPEC(DefaultParse(0), raw, nil, time.Now())
	if err != nil || res.receipt != nil {
		t.Fatalf("%v %+v", err, res.receipt)
	}
	in := res.in
	if in.Channel != channels.PEC || in.PEC == nil || in.PEC.ID != "opec9@pec.g.example" || in.ExternalID != "opec9@pec.g.example" ||
		in.From != "anna@pec.g.example" {
		t.Fatalf("%+v %+v", in, in.PEC)
	}
	if !strings.Contains(strings.Join(in.Notes, "\n"), "senza un postacert.eml") || !strings.Contains(in.Subject, "POSTA CERTIFICATA") {
		t.Errorf("notes %q subject %q", in.Notes, in.Subject)
	}
	if len(in.Attachments) == 0 || in.Attachments[len(in.Attachments)-1].Filename != EnvelopeFilename {
		t.Errorf("attachments %+v", in.Attachments)
	}
}
