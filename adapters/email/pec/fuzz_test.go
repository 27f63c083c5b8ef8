package pec_test

import (
	"testing"
	"time"

	"github.com/sportello/sportello/adapters/email/pec"
	"github.com/sportello/sportello/adapters/email/pec/pectest"
)

// FuzzParse: no input makes the envelope reader panic or hang, and what it returns is
// consistent (a receipt names its type, an envelope never comes back as ordinary mail).
func FuzzParse(f *testing.F) {
	p, err := pectest.NewProvider("G", "pec.g.example")
	if err != nil {
		f.Fatal(err)
	}
	spec := envelopeSpec()
	for _, s := range []pectest.Spec{spec, {Tipo: "accettazione", Mittente: "a@b", To: "c@d", Identificativo: "i", MsgID: "m", Date: time.Unix(0, 0)},
		{Anomaly: true, Mittente: "a@b", To: "c@d", Original: []byte("From: a@b\r\n\r\nx\r\n"), MsgID: "m"}} {
		raw, err := p.Build(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte("X-Trasporto: posta-certificata\r\nContent-Type: multipart/signed; boundary=b\r\n\r\n--b\r\n\r\n--b--"))
	f.Add([]byte("X-Ricevuta: avvenuta-consegna\n\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := pec.Parse(raw, pec.Options{})
		if err != nil {
			return
		}
		if m.Kind == pec.KindReceipt && m.Receipt == "" {
			t.Fatal("a receipt without its type")
		}
		if m.Signature.Status == "" {
			t.Fatal("no signature verdict")
		}
	})
}

// FuzzParseDatiCert: any bytes read as a daticert or fail with a DatiCertError.
func FuzzParseDatiCert(f *testing.F) {
	f.Add(pectest.DatiCert(envelopeSpec()))
	f.Add(pectest.DatiCert(pectest.Spec{Tipo: "errore-consegna", ErroreEsteso: "x", Identificativo: "i"}))
	f.Add([]byte(`<postacert tipo="accettazione"><dati><identificativo>i</identificativo><data zona="+0100"><giorno>31/02/2026</giorno><ora>25:00:00</ora></data></dati></postacert>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := pec.ParseDatiCert(data)
		if err != nil {
			return
		}
		if d.Identificativo == "" || !pec.IsReceiptType(d.Tipo) && d.Tipo != pec.TipoPostaCertificata {
			t.Fatalf("accepted a daticert without identificativo or with tipo %q", d.Tipo)
		}
	})
}
