package integration

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// emailMaxBytes is the test gateways' smtp.max_message_bytes.
const emailMaxBytes = 65536

// emailYAML is the harness's configuration with the SMTP server on a free port, a fax gateway
// and extra (no % signs: it goes through Sprintf).
func emailYAML(extra string) string {
	base := strings.Replace(harness.BaseYAML, "smtp:\n  listen: \"\"\n",
		fmt.Sprintf("smtp:\n  listen: 127.0.0.1:0\n  max_message_bytes: %d\n", emailMaxBytes), 1)
	if base == harness.BaseYAML {
		panic("harness.BaseYAML no longer has the smtp block this test replaces")
	}
	return base + `
fax:
  gateways:
    - sender: "@fax.example"
      networks: [127.0.0.0/8, "::1/128"]
  outbound_domain: fax.example
` + extra
}

// startEmailGateway runs a gateway with the email configuration on a new database.
func startEmailGateway(t *testing.T, d store.Dialect, extra string) *harness.Gateway {
	t.Helper()
	gw := harness.Start(t, harness.Options{Dialect: d, Replace: emailYAML(extra)})
	if gw.G.SMTPAddr() == "" || strings.HasSuffix(gw.G.SMTPAddr(), ":0") {
		t.Fatalf("SMTP address not known: %q", gw.G.SMTPAddr())
	}
	return gw
}

// sendSMTP delivers one message with go-smtp's client.
func sendSMTP(t *testing.T, addr, from, to, msg string) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	return c.SendMail(from, []string{to}, strings.NewReader(msg))
}

// citizenMail is a plain Italian message.
func citizenMail(id, from, to, subject, body string) string {
	return strings.Join([]string{
		"From: " + from,
		"To: " + to,
		"Subject: " + subject,
		"Date: " + time.Now().Format(time.RFC1123Z),
		"Message-ID: <" + id + ">",
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: 8bit",
		"",
		body,
		"",
	}, "\r\n")
}

// faxMail is what a fax-to-email gateway sends: a short text and the fax as a TIFF.
func faxMail(t *testing.T, id, number string) string {
	t.Helper()
	tif, err := os.ReadFile("../adapters/fax/testdata/fax.tif") // two pages, Group 4
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(tif)
	var lines []string
	for len(b64) > 76 {
		lines = append(lines, b64[:76])
		b64 = b64[76:]
	}
	lines = append(lines, b64)
	return strings.Join([]string{
		"From: Servizio Fax <noreply@fax.example>",
		"To: urp@comune.fi.it",
		"Subject: Fax da " + number,
		"Date: " + time.Now().Format(time.RFC1123Z),
		"Message-ID: <" + id + ">",
		"MIME-Version: 1.0",
		`Content-Type: multipart/mixed; boundary="fax-boundary"`,
		"",
		"--fax-boundary",
		"Content-Type: text/plain; charset=utf-8",
		"",
		"Ricevuto un fax di 2 pagine.",
		"--fax-boundary",
		`Content-Type: image/tiff; name="fax.tif"`,
		`Content-Disposition: attachment; filename="fax.tif"`,
		"Content-Transfer-Encoding: base64",
		"",
		strings.Join(lines, "\r\n"),
		"--fax-boundary--",
		"",
	}, "\r\n")
}

// contactsOf lists the contacts of a channel through the operator API.
func contactsOf(t *testing.T, gw *harness.Gateway, token string, ch channels.Kind) []channels.Contact {
	t.Helper()
	var list contactList
	if code := harness.API(t, "GET", gw.URL+"/api/v1/contacts?limit=100&channel="+url.QueryEscape(string(ch)), token, nil, &list); code != 200 {
		t.Fatalf("list %s: %d", ch, code)
	}
	return list.Items
}

// waitContacts waits until the channel has n contacts and returns them.
func waitContacts(t *testing.T, gw *harness.Gateway, token string, ch channels.Kind, n int, timeout time.Duration) []channels.Contact {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		list := contactsOf(t, gw, token, ch)
		if len(list) == n {
			return list
		}
		if len(list) > n || time.Now().After(deadline) {
			t.Fatalf("want %d %s contacts, have %d after %s", n, ch, len(list), timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// swaks runs the swaks SMTP client; missing, it skips the test (fails it under CI=true).
func swaks(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("swaks")
	storetest.RequirePeer(t, "swaks (apt-get install -y swaks)", err)
	cmd := exec.Command(bin, append([]string{"--timeout", "20"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.String(), err
}

// emailRelay is the outbound SMTP relay replies go to: it keeps every message it is given.
type emailRelay struct {
	Addr string
	mu   sync.Mutex
	msgs []emailRelayed
}

type emailRelayed struct {
	From, To string
	Data     []byte
}

func startEmailRelay(t *testing.T) *emailRelay {
	t.Helper()
	r := &emailRelay{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &emailRelaySession{r: r}, nil }))
	srv.Domain = "relay.test"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return r
}

// Wait returns the relay's messages once there are n.
func (r *emailRelay) Wait(t *testing.T, n int) []emailRelayed {
	t.Helper()
	waitUntil(t, 30*time.Second, fmt.Sprintf("%d relayed messages", n), func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.msgs) >= n
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]emailRelayed(nil), r.msgs...)
}

type emailRelaySession struct {
	r        *emailRelay
	from, to string
}

func (s *emailRelaySession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *emailRelaySession) Rcpt(to string, _ *smtp.RcptOptions) error   { s.to = to; return nil }
func (s *emailRelaySession) Data(rd io.Reader) error {
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	s.r.msgs = append(s.r.msgs, emailRelayed{From: s.from, To: s.to, Data: b})
	s.r.mu.Unlock()
	return nil
}
func (s *emailRelaySession) Reset()        {}
func (s *emailRelaySession) Logout() error { return nil }

// annaForwarded is where the office-threading tests start: Anna mailed the Comune di Firenze
// (Message-ID annaMsgID) and an admin forwarded her contact to its Polizia Municipale.
type annaForwarded struct {
	gw    *harness.Gateway
	relay *emailRelay
	token string // the admin's
	addr  string // the gateway's SMTP door
	anna  channels.Contact
	fwd   emailRelayed // the forward, as the office received it
}

func forwardAnnasMail(t *testing.T, d store.Dialect, admin, annaMsgID string) annaForwarded {
	t.Helper()
	relay := startEmailRelay(t)
	gw := startEmailGateway(t, d, "email:\n  from: \"Linea Comune <noreply@055055.example>\"\n  relay: "+relay.Addr+"\n")
	token := gw.User(t, admin, store.RoleAdmin)
	addr := gw.G.SMTPAddr()
	if err := sendSMTP(t, addr, "anna@example.it", "urp@comune.fi.it",
		citizenMail(annaMsgID, "Anna <anna@example.it>", "urp@comune.fi.it", "Multa via Roma", "Ho ricevuto una multa che non è mia.")); err != nil {
		t.Fatal(err)
	}
	anna := contactsOf(t, gw, token, channels.Email)[0]
	if code := harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+anna.ID+"/resolve", token,
		map[string]string{"outcome": "forwarded_email", "category": "contravvenzioni", "office": "polizia-municipale"}, nil); code/100 != 2 {
		t.Fatalf("forward: %d", code)
	}
	return annaForwarded{gw: gw, relay: relay, token: token, addr: addr, anna: anna, fwd: relay.Wait(t, 1)[0]}
}
