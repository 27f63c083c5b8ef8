package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/sportello/sportello/adapters/email/pec"
	"github.com/sportello/sportello/adapters/email/pec/pectest"
	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

const (
	pecBox      = "protocollo@pec.comune.fi.it"
	pecPassword = "pec-secret"
	pecCitizen  = "mario.rossi@pec.prova.example"
)

// pecRelay is a PEC provider's submission server: implicit TLS, and AUTH PLAIN before MAIL.
type pecRelay struct {
	Addr   string
	CAFile string
	mu     sync.Mutex
	msgs   []pecRelayed
	denied int
}

type pecRelayed struct {
	User, From, To string
	Data           string
}

func startPECRelay(t *testing.T) *pecRelay {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "smtps.pec.test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	r := &pecRelay{CAFile: filepath.Join(t.TempDir(), "relay-ca.pem")}
	if err := os.WriteFile(r.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &pecRelaySession{r: r}, nil }))
	srv.Domain = "smtps.pec.test"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	r.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return r
}

func (r *pecRelay) wait(t *testing.T, n int) []pecRelayed {
	t.Helper()
	waitUntil(t, 30*time.Second, fmt.Sprintf("%d messages at the PEC relay", n), func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.msgs) >= n
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]pecRelayed(nil), r.msgs...)
}

type pecRelaySession struct {
	r        *pecRelay
	user     string
	from, to string
}

func (s *pecRelaySession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *pecRelaySession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != pecBox || password != pecPassword {
			s.r.mu.Lock()
			s.r.denied++
			s.r.mu.Unlock()
			return errors.New("invalid credentials")
		}
		s.user = username
		return nil
	}), nil
}
func (s *pecRelaySession) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}
func (s *pecRelaySession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }
func (s *pecRelaySession) Data(rd io.Reader) error {
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	s.r.msgs = append(s.r.msgs, pecRelayed{User: s.user, From: s.from, To: s.to, Data: string(b)})
	s.r.mu.Unlock()
	return nil
}
func (s *pecRelaySession) Reset()        {}
func (s *pecRelaySession) Logout() error { return nil }

// TestPECDovecotEnvelopesReceiptsAndReplies runs a comune's PEC box end to end: envelopes and
// an anomaly built to the standard and signed by a test provider, placed in a real Dovecot;
// a reply through an authenticated TLS relay; its receipts placed in the same box; the
// evidence checked against the exact bytes; the inbox in a browser.
func TestPECDovecotEnvelopesReceiptsAndReplies(t *testing.T) {
	dc := startDovecot(t)
	relay := startPECRelay(t)
	prov, err := pectest.NewProvider("Gestore di Prova S.p.A.", "pec.prova.example")
	if err != nil {
		t.Fatal(err)
	}
	roots := filepath.Join(t.TempDir(), "pec-roots.pem")
	if err := os.WriteFile(roots, prov.RootPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(harness.BaseYAML, "    email_addresses: [\"urp@comune.fi.it\"]\n",
		"    email_addresses: [\"urp@comune.fi.it\"]\n    pec_address: "+pecBox+"\n", 1)
	yaml += fmt.Sprintf(`email:
  pec_relay: {address: %s, username: %s, password: %s, security: tls, ca_file: %s}
  pec_trusted_roots: %s
  pec_delivery_timeout: 4s
imap:
  - {comune: firenze, address: %s, security: none, username: %s, password: %s, mailbox: INBOX, poll_interval: 1s, pec: true}
`, relay.Addr, pecBox, pecPassword, relay.CAFile, roots, dc.Addr, dovecotUser, dovecotPassword)

	when := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	orig := pectest.Original("Mario Rossi <"+pecCitizen+">", pecBox, "Richiesta accesso agli atti",
		"Buongiorno,\nchiedo copia della delibera n. 12 del 2026.\nMario Rossi", "orig-1@pec.prova.example", "delega.pdf", []byte("%PDF-1.4 delega firmata"))
	envelope, err := prov.Build(pectest.Spec{Tipo: pec.TipoPostaCertificata, Mittente: pecCitizen, To: pecBox, Oggetto: "Richiesta accesso agli atti",
		Original: orig, Identificativo: "opec210.20261127.1234.01.1.1@pec.prova.example", MsgID: "orig-1@pec.prova.example", Date: when})
	if err != nil {
		t.Fatal(err)
	}
	anomaly, err := prov.Build(pectest.Spec{Anomaly: true, Mittente: "ufficio@ordinaria.example", To: pecBox, Oggetto: "Sollecito",
		Original:  pectest.Original("ufficio@ordinaria.example", pecBox, "Sollecito", "Scriviamo da una casella ordinaria.", "ord-1@ordinaria.example", "", nil),
		MessageID: "opec211.anomalia@pec.prova.example", MsgID: "ord-1@ordinaria.example", Date: when})
	if err != nil {
		t.Fatal(err)
	}
	dc.Deliver("INBOX", string(envelope))
	dc.Deliver("INBOX", string(anomaly))

	gw := harness.Start(t, harness.Options{Replace: yaml})
	token := gw.User(t, "operatrice", store.RoleSupervisor)
	list := waitContacts(t, gw, token, channels.PEC, 2, 20*time.Second)
	var envID, anomalyID string
	for _, c := range list {
		if c.PEC != nil && c.PEC.Anomaly {
			anomalyID = c.ID
		} else {
			envID = c.ID
		}
	}
	var c channels.Contact
	if st := harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+envID, token, nil, &c); st != 200 {
		t.Fatalf("contact: %d", st)
	}
	// The contact is the citizen's message, not the provider's envelope.
	if c.From != pecCitizen || c.Subject != "Richiesta accesso agli atti" || !strings.Contains(c.Body, "delibera n. 12") ||
		c.Comune == nil || *c.Comune != "firenze" || strings.Contains(c.Subject, "POSTA CERTIFICATA") {
		t.Fatalf("contact: from %q subject %q body %q", c.From, c.Subject, c.Body)
	}
	sum := sha256.Sum256(envelope)
	p := c.PEC
	if p == nil || p.ID != "opec210.20261127.1234.01.1.1@pec.prova.example" || p.Sender != pecCitizen || p.Provider != "Gestore di Prova S.p.A." ||
		p.SentAt == nil || !p.SentAt.Equal(when) || p.Signature != "valid" || p.Anomaly || p.EnvelopeSHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("certification: %+v (want hash %x)", p, sum)
	}
	// The evidence: envelope.eml is the delivered bytes, and its hash is the one shown.
	var envAtt channels.Attachment
	var names []string
	for _, a := range c.Attachments {
		names = append(names, a.Filename)
		if a.Filename == "envelope.eml" {
			envAtt = a
		}
	}
	if strings.Join(names, ",") != "delega.pdf,envelope.eml" {
		t.Fatalf("attachments: %v", names)
	}
	got := attachmentBytes(t, gw.URL+"/api/v1/contacts/"+envID+"/attachments/"+envAtt.ID, token)
	gotSum := sha256.Sum256(got)
	if string(got) != string(envelope) || hex.EncodeToString(gotSum[:]) != p.EnvelopeSHA256 || envAtt.SHA256 != p.EnvelopeSHA256 {
		t.Fatalf("envelope.eml: %d bytes (sha256 %x), delivered %d bytes (%s)", len(got), gotSum, len(envelope), p.EnvelopeSHA256)
	}
	var an channels.Contact
	harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+anomalyID, token, nil, &an)
	if an.PEC == nil || !an.PEC.Anomaly || an.From != "ufficio@ordinaria.example" || an.Subject != "Sollecito" {
		t.Fatalf("anomaly: %+v %+v", an, an.PEC)
	}

	// The reply leaves through the PEC relay, authenticated over TLS, from the comune's PEC address.
	var msg channels.Message
	if st := harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+envID+"/reply", token,
		map[string]string{"body": "Gentile signor Rossi, la copia della delibera è in allegato alla prossima comunicazione."}, &msg); st != 202 {
		t.Fatalf("reply: %d", st)
	}
	sent := relay.wait(t, 1)[0]
	if sent.User != pecBox || sent.From != pecBox || sent.To != pecCitizen || !strings.Contains(strings.ToLower(sent.Data), strings.ToLower("Message-ID: <"+msg.MessageID+">")) ||
		!strings.Contains(sent.Data, "In-Reply-To: <orig-1@pec.prova.example>") || !strings.Contains(sent.Data, "Subject: Re: Richiesta accesso agli atti") {
		t.Fatalf("relayed: user %q from %q to %q\n%s", sent.User, sent.From, sent.To, sent.Data)
	}
	lastMessage := func() (channels.Contact, channels.Message) {
		var full channels.Contact
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+envID, token, nil, &full)
		return full, full.Messages[len(full.Messages)-1]
	}
	if _, m := lastMessage(); m.Delivery != nil || m.Channel != channels.PEC || m.DeliveryDueAt == nil {
		t.Fatalf("before any receipt: delivery %v channel %s due %v", m.Delivery, m.Channel, m.DeliveryDueAt)
	}

	// Its receipts arrive in the same box: acceptance, then (after the timeout) delivery.
	receipt := func(tipo, ref string) []byte {
		raw, err := prov.Build(pectest.Spec{Tipo: tipo, Mittente: pecBox, To: pecCitizen, Oggetto: "Re: Richiesta accesso agli atti",
			Identificativo: "opec-" + tipo + "@pec.prova.example", MsgID: ref, Consegna: pecCitizen, Date: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		dc.Deliver("INBOX", string(raw))
		return raw
	}
	receipt(pec.TipoAccettazione, msg.MessageID)
	waitUntil(t, 20*time.Second, "the reply accepted", func() bool {
		_, m := lastMessage()
		return m.Delivery != nil && *m.Delivery == channels.DeliveryAccepted
	})
	waitUntil(t, 20*time.Second, "no delivery receipt within 4s flagged", func() bool {
		c, m := lastMessage()
		return m.DeliveryOverdue && c.DeliveryOverdue
	})
	var inbox struct{ Items []channels.Contact }
	harness.API(t, "GET", gw.URL+"/api/v1/contacts?channel=pec", token, nil, &inbox)
	flagged := false
	for _, it := range inbox.Items {
		flagged = flagged || (it.ID == envID && it.DeliveryOverdue)
	}
	if !flagged {
		t.Fatal("the list does not flag the contact whose reply has no delivery receipt")
	}
	delivered := receipt(pec.TipoAvvenutaConsegna, msg.MessageID)
	receipt(pec.TipoAvvenutaConsegna, "someone-else@elsewhere.example") // not ours: never a contact
	waitUntil(t, 20*time.Second, "the reply delivered", func() bool {
		_, m := lastMessage()
		return m.Delivery != nil && *m.Delivery == channels.DeliveryDelivered && !m.DeliveryOverdue
	})
	waitUntil(t, 10*time.Second, "all five messages flagged \\Seen", func() bool { return allSeen(dc.Flags("INBOX"), 5) })
	full, m := lastMessage()
	if full.DeliveryOverdue {
		t.Error("the contact is still flagged after the delivery receipt")
	}
	var receipts []string
	for _, a := range m.Attachments {
		receipts = append(receipts, a.Filename)
		if a.Filename == "ricevuta-avvenuta-consegna.eml" {
			if b := attachmentBytes(t, gw.URL+"/api/v1/contacts/"+envID+"/attachments/"+a.ID, token); string(b) != string(delivered) {
				t.Error("the delivery receipt attached is not the one in the box")
			}
		}
	}
	if strings.Join(receipts, ",") != "ricevuta-accettazione.eml,ricevuta-avvenuta-consegna.eml" || len(m.Notes) != 2 ||
		!strings.Contains(m.Notes[1], "avvenuta consegna") {
		t.Fatalf("receipts on the reply: %v, notes %q", receipts, m.Notes)
	}
	var all struct{ Items []channels.Contact }
	harness.API(t, "GET", gw.URL+"/api/v1/contacts", token, nil, &all)
	if len(all.Items) != 2 {
		t.Fatalf("receipts became contacts: %d contacts", len(all.Items))
	}
	if relay.denied != 0 {
		t.Errorf("the relay refused %d logins", relay.denied)
	}

	// The inbox in a browser: the PEC contact with its certification and its receipts.
	ctx := newBrowser(t)
	if ctx == nil {
		return
	}
	browserStep(t, ctx, "log in", chromedp.Navigate(gw.URL+"/login"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "operatrice"), chromedp.SendKeys(chromedp.ID("password"), "password-operatrice"),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.ID("contact-rows")))
	browserWait(t, ctx, "the PEC row", `document.querySelector("#c-`+envID+` .chan-pec") !== null`, 5*time.Second)
	if txt := browserEval[string](t, ctx, `document.querySelector("#c-`+anomalyID+`").textContent`); !strings.Contains(txt, "anomalia") {
		t.Errorf("the anomaly row is not flagged: %q", txt)
	}
	browserCheckA11y(t, ctx, "inbox with PEC")
	browserStep(t, ctx, "open the PEC contact", chromedp.Navigate(gw.URL+"/inbox/contacts/"+envID), chromedp.WaitVisible(chromedp.CSS(".pec-cert")))
	cert := browserEval[string](t, ctx, `document.querySelector(".pec-cert").innerText`)
	for _, want := range []string{"PEC certificata", "opec210.20261127.1234.01.1.1@pec.prova.example", pecCitizen, "Gestore di Prova S.p.A.", "valida", p.EnvelopeSHA256} {
		if !strings.Contains(cert, want) {
			t.Errorf("certification shown lacks %q:\n%s", want, cert)
		}
	}
	if n := browserEval[int](t, ctx, `document.querySelectorAll('[data-delivery="delivered"]').length`); n != 1 {
		t.Errorf("the reply's delivery is not shown (%d)", n)
	}
	thread := browserEval[string](t, ctx, `document.querySelector(".messages").innerText`)
	for _, want := range []string{"ricevuta-accettazione.eml", "ricevuta-avvenuta-consegna.eml", "envelope.eml", "Ricevuta: consegnato", "Ricevuta PEC di avvenuta consegna"} {
		if !strings.Contains(thread, want) {
			t.Errorf("thread lacks %q:\n%s", want, thread)
		}
	}
	browserCheckA11y(t, ctx, "PEC contact")
	browserScreenshot(t, ctx, "pec-contact")
}

// attachmentBytes downloads an attachment with a token.
func attachmentBytes(t *testing.T, u, token string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("attachment: %d %v", resp.StatusCode, err)
	}
	return b
}
