// Package pectest builds PEC messages the way providers write them, for tests: envelopes,
// receipts and anomaly envelopes with a daticert.xml of the standard's form and a real
// detached S/MIME signature from a test provider whose CA the test controls.
package pectest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"html"
	"math/big"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"
)

// Provider is a test PEC provider: a root CA and the certificate it signs messages with.
type Provider struct {
	Name    string
	Domain  string
	root    *x509.Certificate
	rootDER []byte
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
}

// NewProvider makes a provider with its own CA, valid from an hour ago for a year.
func NewProvider(name, domain string) (*Provider, error) {
	now := time.Now()
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " Test CA", Organization: []string{name}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "posta-certificata@" + domain, Organization: []string{name}},
		EmailAddresses: []string{"posta-certificata@" + domain}, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, &key.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, err
	}
	return &Provider{Name: name, Domain: domain, root: root, rootDER: rootDER, cert: cert, key: key}, nil
}

// RootPEM is the provider's CA, for a trusted-roots file.
func (p *Provider) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.rootDER})
}

// Spec describes one message a provider writes.
type Spec struct {
	// Tipo is posta-certificata for an envelope, or a receipt's type (accettazione, ...).
	Tipo string
	// Anomaly makes an anomaly envelope (X-Trasporto: errore) around Original.
	Anomaly bool
	// Mittente, To and Oggetto are the original message's sender, recipient and subject.
	Mittente string
	To       string
	Oggetto  string
	// Original is postacert.eml (envelopes, anomalies, and a "completa" delivery receipt).
	Original []byte
	// Identificativo is the provider's id of the transport; MsgID the original Message-ID.
	Identificativo string
	MsgID          string
	// MessageID is the message's own Message-ID (default: Identificativo).
	MessageID string
	Date      time.Time
	// Gestore is the gestore-emittente (default: the provider's name).
	Gestore  string
	Consegna string
	Errore   string
	// ErroreEsteso explains a failure receipt.
	ErroreEsteso string
	// Unsigned leaves out smime.p7s; Tamper changes the signed content after signing.
	Unsigned bool
	Tamper   bool
}

// Build writes the message with CRLF line ends, as it arrives in a mailbox.
func (p *Provider) Build(s Spec) ([]byte, error) {
	if s.Date.IsZero() {
		s.Date = time.Now()
	}
	if s.MessageID == "" {
		s.MessageID = s.Identificativo
	}
	if s.Gestore == "" {
		s.Gestore = p.Name
	}
	var notice, subject string
	switch {
	case s.Anomaly:
		subject = "ANOMALIA MESSAGGIO: " + s.Oggetto
		notice = fmt.Sprintf("Anomalia nel messaggio\r\nIl giorno %s alle ore %s (%s) è stato ricevuto\r\nil messaggio \"%s\" proveniente da \"%s\"\r\nindirizzato a:\r\n%s\r\nSono state rilevate anomalie che non consentono di certificare il messaggio.\r\n",
			s.Date.Format("02/01/2006"), s.Date.Format("15:04:05"), s.Date.Format("-0700"), s.Oggetto, s.Mittente, s.To)
	case s.Tipo == "posta-certificata":
		subject = "POSTA CERTIFICATA: " + s.Oggetto
		notice = fmt.Sprintf("Messaggio di posta certificata\r\nIl giorno %s alle ore %s (%s) il messaggio\r\n\"%s\" è stato inviato da \"%s\"\r\nindirizzato a:\r\n%s\r\nIl messaggio originale è incluso in allegato.\r\nIdentificativo messaggio: %s\r\n",
			s.Date.Format("02/01/2006"), s.Date.Format("15:04:05"), s.Date.Format("-0700"), s.Oggetto, s.Mittente, s.To, s.Identificativo)
	default:
		subject = strings.ToUpper(strings.ReplaceAll(s.Tipo, "-", " ")) + ": " + s.Oggetto
		notice = fmt.Sprintf("Ricevuta di %s\r\nIl giorno %s alle ore %s (%s) il messaggio\r\n\"%s\" proveniente da \"%s\"\r\nindirizzato a \"%s\"\r\n%s\r\nIdentificativo messaggio: %s\r\n",
			s.Tipo, s.Date.Format("02/01/2006"), s.Date.Format("15:04:05"), s.Date.Format("-0700"), s.Oggetto, s.Mittente, s.To, s.ErroreEsteso, s.Identificativo)
	}
	var mix bytes.Buffer
	w := func(lines ...string) {
		for _, l := range lines {
			mix.WriteString(l + "\r\n")
		}
	}
	w(`Content-Type: multipart/mixed; boundary="----=_MIX_0001"`, "", "This is a multi-part message in MIME format.", "------=_MIX_0001",
		`Content-Type: multipart/alternative; boundary="----=_ALT_0002"`, "", "------=_ALT_0002",
		"Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit", "")
	mix.WriteString(notice)
	w("------=_ALT_0002", "Content-Type: text/html; charset=UTF-8", "Content-Transfer-Encoding: 8bit", "",
		"<html><body><p>"+strings.ReplaceAll(html.EscapeString(notice), "\r\n", "<br>")+"</p></body></html>", "------=_ALT_0002--", "")
	if !s.Anomaly {
		w("------=_MIX_0001", `Content-Type: application/xml; name="daticert.xml"`, `Content-Disposition: inline; filename="daticert.xml"`,
			"Content-Transfer-Encoding: base64", "")
		w(wrap(base64.StdEncoding.EncodeToString(DatiCert(s)))...)
	}
	if s.Original != nil {
		w("------=_MIX_0001", `Content-Type: message/rfc822; name="postacert.eml"`, `Content-Disposition: inline; filename="postacert.eml"`, "")
		mix.Write(crlf(s.Original))
		if !bytes.HasSuffix(mix.Bytes(), []byte("\r\n")) {
			w("")
		}
	}
	w("------=_MIX_0001--")
	signed := mix.Bytes()

	var out bytes.Buffer
	hw := func(lines ...string) {
		for _, l := range lines {
			out.WriteString(l + "\r\n")
		}
	}
	hw("Return-Path: <posta-certificata@"+p.Domain+">", "Received: from smtp."+p.Domain+" by mx."+p.Domain+"; "+s.Date.Format(time.RFC1123Z),
		"Date: "+s.Date.Format(time.RFC1123Z), "Subject: "+subject, "Message-ID: <"+s.MessageID+">", "MIME-Version: 1.0")
	switch {
	case s.Anomaly:
		hw(`From: "Per conto di: `+s.Mittente+`" <posta-certificata@`+p.Domain+`>`, "Reply-To: "+s.Mittente, "To: "+s.To,
			"X-Riferimento-Message-ID: <"+s.MsgID+">", "X-Trasporto: errore")
	case s.Tipo == "posta-certificata":
		hw(`From: "Per conto di: `+s.Mittente+`" <posta-certificata@`+p.Domain+`>`, "Reply-To: "+s.Mittente, "To: "+s.To,
			"X-Riferimento-Message-ID: <"+s.MsgID+">", "X-Trasporto: posta-certificata")
	default:
		hw("From: posta-certificata@"+p.Domain, "To: "+s.Mittente, "X-Riferimento-Message-ID: <"+s.MsgID+">", "X-Ricevuta: "+s.Tipo)
		if s.Consegna != "" {
			hw("X-Verificasicurezza: normale")
		}
	}
	if s.Unsigned {
		out.Write(signed)
		return out.Bytes(), nil
	}
	sd, err := pkcs7.NewSignedData(signed)
	if err != nil {
		return nil, err
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSignerChain(p.cert, p.key, []*x509.Certificate{p.root}, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, err
	}
	sd.Detach()
	der, err := sd.Finish()
	if err != nil {
		return nil, err
	}
	if s.Tamper {
		signed = bytes.Replace(signed, []byte("Il giorno"), []byte("Il giorn0"), 1)
	}
	hw(`Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="----=_SIG_0000"`, "",
		"This is an S/MIME signed message", "------=_SIG_0000")
	out.Write(signed)
	hw("", "------=_SIG_0000", `Content-Type: application/pkcs7-signature; name="smime.p7s"`, "Content-Transfer-Encoding: base64",
		`Content-Disposition: attachment; filename="smime.p7s"`, `Content-Description: S/MIME Cryptographic Signature`, "")
	hw(wrap(base64.StdEncoding.EncodeToString(der))...)
	hw("", "------=_SIG_0000--")
	return out.Bytes(), nil
}

// DatiCert is the daticert.xml of s, in the standard's form (DM 2 November 2005, allegato).
func DatiCert(s Spec) []byte {
	x := func(v string) string { return html.EscapeString(v) }
	errore := s.Errore
	if errore == "" {
		errore = "nessuno"
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<!DOCTYPE postacert SYSTEM "Docs/daticert.dtd">` + "\n")
	fmt.Fprintf(&b, `<postacert tipo="%s" errore="%s">`+"\n", x(s.Tipo), x(errore))
	fmt.Fprintf(&b, "  <intestazione>\n    <mittente>%s</mittente>\n    <destinatari tipo=\"certificato\">%s</destinatari>\n    <risposte>%s</risposte>\n    <oggetto>%s</oggetto>\n  </intestazione>\n",
		x(s.Mittente), x(s.To), x(s.Mittente), x(s.Oggetto))
	fmt.Fprintf(&b, "  <dati>\n    <gestore-emittente>%s</gestore-emittente>\n    <data zona=\"%s\">\n      <giorno>%s</giorno>\n      <ora>%s</ora>\n    </data>\n    <identificativo>%s</identificativo>\n    <msgid>&lt;%s&gt;</msgid>\n",
		x(s.Gestore), s.Date.Format("-0700"), s.Date.Format("02/01/2006"), s.Date.Format("15:04:05"), x(s.Identificativo), x(s.MsgID))
	if s.Tipo == "avvenuta-consegna" {
		b.WriteString("    <ricevuta tipo=\"completa\" />\n")
	}
	if s.Consegna != "" {
		fmt.Fprintf(&b, "    <consegna>%s</consegna>\n", x(s.Consegna))
	}
	if s.ErroreEsteso != "" {
		fmt.Fprintf(&b, "    <errore-esteso>%s</errore-esteso>\n", x(s.ErroreEsteso))
	}
	b.WriteString("  </dati>\n</postacert>\n")
	return []byte(b.String())
}

// Original writes a plain message a citizen sends from their PEC box: text, and one
// attachment when name is not "".
func Original(from, to, subject, body, messageID, attName string, attData []byte) []byte {
	var b bytes.Buffer
	w := func(l string) { b.WriteString(l + "\r\n") }
	w("Date: " + time.Now().Format(time.RFC1123Z))
	w("From: " + from)
	w("To: " + to)
	w("Subject: " + subject)
	w("Message-ID: <" + messageID + ">")
	w("MIME-Version: 1.0")
	if attName == "" {
		w("Content-Type: text/plain; charset=UTF-8")
		w("Content-Transfer-Encoding: 8bit")
		w("")
		b.Write(crlf([]byte(body)))
		w("")
		return b.Bytes()
	}
	w(`Content-Type: multipart/mixed; boundary="orig-0001"`)
	w("")
	w("--orig-0001")
	w("Content-Type: text/plain; charset=UTF-8")
	w("Content-Transfer-Encoding: 8bit")
	w("")
	b.Write(crlf([]byte(body)))
	w("")
	w("--orig-0001")
	w(`Content-Type: application/pdf; name="` + attName + `"`)
	w(`Content-Disposition: attachment; filename="` + attName + `"`)
	w("Content-Transfer-Encoding: base64")
	w("")
	for _, l := range wrap(base64.StdEncoding.EncodeToString(attData)) {
		w(l)
	}
	w("--orig-0001--")
	return b.Bytes()
}

func wrap(s string) []string {
	var out []string
	for len(s) > 76 {
		out = append(out, s[:76])
		s = s[76:]
	}
	return append(out, s)
}

func crlf(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}
