package pec_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/adapters/email/pec"
	"github.com/sportello/sportello/adapters/email/pec/pectest"
)

func provider(t testing.TB) *pectest.Provider {
	t.Helper()
	p, err := pectest.NewProvider("Gestore di Prova S.p.A.", "pec.prova.example")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func roots(t testing.TB, p *pectest.Provider) *x509.CertPool {
	t.Helper()
	path := filepath.Join(t.TempDir(), "roots.pem")
	if err := os.WriteFile(path, p.RootPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	pool, err := pec.LoadRoots(path)
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

var when = time.Date(2026, 11, 27, 9, 15, 30, 0, time.FixedZone("", 3600))

func envelopeSpec() pectest.Spec {
	orig := pectest.Original("Mario Rossi <mario.rossi@pec.prova.example>", "protocollo@pec.comune.fi.it",
		"Richiesta accesso agli atti", "Chiedo copia della delibera n. 12.\nCordiali saluti", "orig-1@pec.prova.example",
		"delega.pdf", []byte("%PDF-1.4 delega"))
	return pectest.Spec{Tipo: pec.TipoPostaCertificata, Mittente: "mario.rossi@pec.prova.example", To: "protocollo@pec.comune.fi.it",
		Oggetto: "Richiesta accesso agli atti", Original: orig, Identificativo: "opec21.20261127091530.1234.01.1.1@pec.prova.example",
		MsgID: "orig-1@pec.prova.example", Date: when}
}

func TestEnvelope(t *testing.T) {
	p := provider(t)
	raw, err := p.Build(envelopeSpec())
	if err != nil {
		t.Fatal(err)
	}
	m, err := pec.Parse(raw, pec.Options{Roots: roots(t, p)})
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != pec.KindEnvelope || m.DatiCert == nil {
		t.Fatalf("kind %q, daticert %v (%v)", m.Kind, m.DatiCert, m.DatiCertErr)
	}
	d := m.DatiCert
	if d.Identificativo != "opec21.20261127091530.1234.01.1.1@pec.prova.example" || d.Mittente != "mario.rossi@pec.prova.example" ||
		d.GestoreEmittente != "Gestore di Prova S.p.A." || d.MsgID != "orig-1@pec.prova.example" || d.Tipo != "posta-certificata" {
		t.Errorf("daticert: %+v", d)
	}
	if !d.Data.Equal(when) {
		t.Errorf("data %v, want %v", d.Data, when)
	}
	if m.Signature.Status != pec.SignatureValid {
		t.Errorf("signature %+v", m.Signature)
	}
	if !bytes.Contains(m.Original, []byte("Subject: Richiesta accesso agli atti")) || !bytes.Contains(m.Original, []byte("delega.pdf")) {
		t.Errorf("postacert.eml not found whole: %q", m.Original)
	}
	if !strings.Contains(m.Text, "Messaggio di posta certificata") {
		t.Errorf("notice text %q", m.Text)
	}
	if len(m.Problems) > 0 {
		t.Errorf("problems: %v", m.Problems)
	}
}

func TestSignatureStates(t *testing.T) {
	p := provider(t)
	other := provider(t)
	good, err := p.Build(envelopeSpec())
	if err != nil {
		t.Fatal(err)
	}
	spec := envelopeSpec()
	spec.Tamper = true
	tampered, err := p.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	spec = envelopeSpec()
	spec.Unsigned = true
	unsigned, err := p.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	lf := bytes.ReplaceAll(good, []byte("\r\n"), []byte("\n"))
	for _, tc := range []struct {
		name  string
		raw   []byte
		roots *x509.CertPool
		want  pec.SignatureStatus
	}{
		{"trusted", good, roots(t, p), pec.SignatureValid},
		{"saved with LF line ends", lf, roots(t, p), pec.SignatureValid},
		{"no roots", good, nil, pec.SignatureUntrusted},
		{"another provider's root", good, roots(t, other), pec.SignatureUntrusted},
		{"content changed after signing", tampered, roots(t, p), pec.SignatureInvalid},
		{"unsigned", unsigned, roots(t, p), pec.SignatureAbsent},
	} {
		m, err := pec.Parse(tc.raw, pec.Options{Roots: tc.roots})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if m.Signature.Status != tc.want {
			t.Errorf("%s: signature %+v, want %s", tc.name, m.Signature, tc.want)
		}
		if m.DatiCert == nil || m.Original == nil {
			t.Errorf("%s: the content must read whatever the signature says", tc.name)
		}
	}
}

func TestReceipts(t *testing.T) {
	p := provider(t)
	for _, tipo := range pec.ReceiptTypes {
		raw, err := p.Build(pectest.Spec{Tipo: tipo, Mittente: "protocollo@pec.comune.fi.it", To: "mario.rossi@pec.prova.example",
			Oggetto: "Re: Richiesta", Identificativo: "opec-" + tipo + "@pec.prova.example", MsgID: "reply-1@sportello.example",
			Consegna: "mario.rossi@pec.prova.example", Date: when})
		if err != nil {
			t.Fatal(err)
		}
		m, err := pec.Parse(raw, pec.Options{Roots: roots(t, p)})
		if err != nil {
			t.Fatal(err)
		}
		if m.Kind != pec.KindReceipt || m.Receipt != tipo || m.RefMessageID != "reply-1@sportello.example" {
			t.Errorf("%s: kind %q receipt %q ref %q", tipo, m.Kind, m.Receipt, m.RefMessageID)
		}
		if m.DatiCert == nil || m.DatiCert.Tipo != tipo || m.Signature.Status != pec.SignatureValid || len(m.Problems) > 0 {
			t.Errorf("%s: daticert %+v (%v), signature %+v, problems %v", tipo, m.DatiCert, m.DatiCertErr, m.Signature, m.Problems)
		}
	}
}

func TestNonAccettazioneIsNotAccettazione(t *testing.T) {
	// go-pec matched substrings: "non-accettazione" contains "accettazione".
	p := provider(t)
	raw, err := p.Build(pectest.Spec{Tipo: pec.TipoNonAccettazione, Mittente: "a@x", To: "b@y", Identificativo: "id1", MsgID: "m1", Date: when})
	if err != nil {
		t.Fatal(err)
	}
	m, err := pec.Parse(raw, pec.Options{})
	if err != nil || m.Receipt != pec.TipoNonAccettazione {
		t.Fatalf("%v %+v", err, m)
	}
}

func TestAnomaly(t *testing.T) {
	p := provider(t)
	spec := envelopeSpec()
	spec.Anomaly = true
	raw, err := p.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := pec.Parse(raw, pec.Options{Roots: roots(t, p)})
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != pec.KindAnomaly || m.Original == nil || m.DatiCertErr != nil || m.Signature.Status != pec.SignatureValid {
		t.Errorf("anomaly: %+v", m)
	}
}

func TestOrdinaryMailIsNotPEC(t *testing.T) {
	for _, raw := range []string{"From: a@b\r\nSubject: ciao\r\n\r\nciao\r\n", "", "garbage without header"} {
		if _, err := pec.Parse([]byte(raw), pec.Options{}); !errors.Is(err, pec.ErrNotPEC) {
			t.Errorf("%q: %v, want ErrNotPEC", raw, err)
		}
	}
}

func TestBrokenEnvelopeStillReads(t *testing.T) {
	p := provider(t)
	raw, err := p.Build(envelopeSpec())
	if err != nil {
		t.Fatal(err)
	}
	// Cut in the middle of the signature: the content is whole, the signature is not.
	cut := raw[:bytes.Index(raw, []byte("smime.p7s"))+200]
	m, err := pec.Parse(cut, pec.Options{Roots: roots(t, p)})
	if err != nil {
		t.Fatal(err)
	}
	if m.DatiCert == nil || m.Original == nil || m.Signature.Status != pec.SignatureInvalid {
		t.Errorf("cut envelope: daticert %v original %d bytes signature %+v", m.DatiCert, len(m.Original), m.Signature)
	}
}

func TestDatiCert(t *testing.T) {
	d, err := pec.ParseDatiCert(pectest.DatiCert(pectest.Spec{Tipo: "errore-consegna", Mittente: "a@pec.it", To: "b@pec.it",
		Oggetto: "x < y & z", Identificativo: "id-7", MsgID: "m7@x", Date: when, ErroreEsteso: "5.1.1 - casella inesistente",
		Errore: "no-dest", Gestore: "G"}))
	if err != nil {
		t.Fatal(err)
	}
	if d.Oggetto != "x < y & z" || d.Errore != "no-dest" || d.ErroreEsteso != "5.1.1 - casella inesistente" || d.MsgID != "m7@x" {
		t.Errorf("%+v", d)
	}
	latin := []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<postacert tipo=\"accettazione\" errore=\"nessuno\"><intestazione><oggetto>Citt\xe0</oggetto></intestazione><dati><identificativo>i</identificativo></dati></postacert>")
	if d, err := pec.ParseDatiCert(latin); err != nil || d.Oggetto != "Città" || !d.Data.IsZero() {
		t.Errorf("latin-1: %+v %v", d, err)
	}
	for _, bad := range []string{"", "<x/>", `<postacert tipo="boh"><dati><identificativo>i</identificativo></dati></postacert>`,
		`<postacert tipo="accettazione"></postacert>`, "<postacert"} {
		var de *pec.DatiCertError
		if _, err := pec.ParseDatiCert([]byte(bad)); !errors.As(err, &de) {
			t.Errorf("%q: %v, want a DatiCertError", bad, err)
		}
	}
}

func BenchmarkParseSignedEnvelope(b *testing.B) {
	p := provider(b)
	raw, err := p.Build(envelopeSpec())
	if err != nil {
		b.Fatal(err)
	}
	pool := roots(b, p)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		m, err := pec.Parse(raw, pec.Options{Roots: pool})
		if err != nil || m.Signature.Status != pec.SignatureValid {
			b.Fatal(err, m.Signature)
		}
	}
}
