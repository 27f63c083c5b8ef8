package integration

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-smtp"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/gateway"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/integration/twilioemu"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
	"github.com/sportello/sportello/web/auth"
)

// The browser tests' gateway: Twilio webhooks are signed against browserPublicURL, outbound SMS
// go to the local outbox (no account sid), email goes to an SMTP sink the test runs.
const (
	browserPublicURL = "https://sportello.test"
	browserAuthToken = "browsertesttoken0123456789"
	browserPassword  = "una-password-lunga"
)

const browserYAML = `
data_dir: %q
public_url: ` + browserPublicURL + `
http:
  listen: 127.0.0.1:0
smtp:
  listen: ""
twilio:
  auth_token: ` + browserAuthToken + `
email:
  from: "Linea Comune <noreply@055055.example>"
  relay: %q
business_hours:
  days: [mon, tue, wed, thu, fri, sat, sun]
  open: "00:00"
  close: "23:59"
  public_holidays: false
shared_numbers: ["+39055055"]
comuni:
  - id: firenze
    name: Comune di Firenze
    phone_numbers: ["+390552768000"]
    email_addresses: ["urp@comune.fi.it"]
    offices:
      - id: polizia-municipale
        name: Polizia Municipale
        email: pm@comune.fi.it
        phone: "+390553283333"
        categories: [contravvenzioni]
      - id: mobilita
        name: Direzione Mobilità
        email: mobilita@comune.fi.it
        phone: "+390552624000"
  - id: empoli
    name: Comune di Empoli
    phone_numbers: ["+39057175761"]
    email_addresses: ["urp@comune.empoli.fi.it"]
    offices:
      - id: polizia-municipale
        name: Polizia Municipale
        email: pm@comune.empoli.fi.it
        phone: "+39057175791"
`

// browserGateway is a whole gateway running in this process.
type browserGateway struct {
	G    *gateway.Gateway
	URL  string
	Mail *browserMailSink
}

func startBrowserGateway(t *testing.T) *browserGateway {
	t.Helper()
	sink := startBrowserMailSink(t)
	// harness.Start fills data_dir and database_url; the relay is this test's sink.
	yaml := strings.Replace(browserYAML, "relay: %q", "relay: "+strconv.Quote(sink.Addr), 1)
	yaml = strings.Replace(yaml, "data_dir: %q", "data_dir: %q\ndatabase_url: %q", 1)
	gw := harness.Start(t, harness.Options{Replace: yaml})
	return &browserGateway{G: gw.G, URL: gw.URL, Mail: sink}
}

// user creates a user with the test password.
func (b *browserGateway) user(t *testing.T, username, role string, comuni ...string) store.User {
	t.Helper()
	hash, err := auth.HashPassword(browserPassword)
	if err != nil {
		t.Fatal(err)
	}
	u, err := b.G.Store.CreateUser(context.Background(), store.User{Username: username, Name: strings.ToUpper(username[:1]) + username[1:],
		Role: role, PasswordHash: hash, Comuni: comuni})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// postSMS delivers an inbound SMS webhook signed as Twilio signs it.
func (b *browserGateway) postSMS(t *testing.T, sid, from, to, body string) {
	t.Helper()
	form := url.Values{"MessageSid": {sid}, "AccountSid": {"AC00000000000000000000000000000000"}, "From": {from}, "To": {to},
		"Body": {body}, "NumMedia": {"0"}}
	signer := twilioemu.Signer{AuthToken: browserAuthToken}
	req, err := http.NewRequest(http.MethodPost, b.URL+"/webhooks/twilio/sms", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", signer.Sign(browserPublicURL+"/webhooks/twilio/sms", form))
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("sms webhook: %d %s", resp.StatusCode, b)
	}
}

// browserMailSink is an SMTP server that keeps what it receives (the relay), and also a
// channels.Sender for builds without an email sender.
type browserMailSink struct {
	Addr string
	mu   sync.Mutex
	msgs []browserMail
}

type browserMail struct {
	From string
	To   []string
	Data string
}

func startBrowserMailSink(t *testing.T) *browserMailSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &browserMailSink{Addr: ln.Addr().String()}
	srv := smtp.NewServer(m)
	srv.Domain = "sink.test"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return m
}

func (m *browserMailSink) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &browserMailSession{m: m}, nil
}

type browserMailSession struct {
	m    *browserMailSink
	mail browserMail
}

func (s *browserMailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.mail.From = from
	return nil
}
func (s *browserMailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.mail.To = append(s.mail.To, to)
	return nil
}
func (s *browserMailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mail.Data = string(b)
	s.m.add(s.mail)
	return nil
}
func (s *browserMailSession) Reset()        { s.mail = browserMail{} }
func (s *browserMailSession) Logout() error { return nil }

func (m *browserMailSink) add(x browserMail) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, x)
}

// Send records an outbound email as if the relay had taken it.
func (m *browserMailSink) Send(_ context.Context, out channels.OutboundMessage) (channels.SendResult, error) {
	m.add(browserMail{From: out.From, To: []string{out.To}, Data: "Subject: " + out.Subject + "\r\n\r\n" + out.Body})
	return channels.SendResult{ExternalID: out.MessageID, Status: "sent"}, nil
}

// waitFor returns the first mail to addr, waiting up to d.
func (m *browserMailSink) waitFor(addr string, d time.Duration) (browserMail, bool) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		for _, x := range m.msgs {
			for _, to := range x.To {
				if strings.EqualFold(to, addr) {
					m.mu.Unlock()
					return x, true
				}
			}
		}
		m.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
	return browserMail{}, false
}

// newBrowser starts headless chromium; without it the test skips, or fails under CI=true.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		path, err = exec.LookPath("chromium-browser")
	}
	if err != nil {
		storetest.RequirePeer(t, "chromium (apt-pageGet install -y chromium)", err)
		return nil
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-extensions", true),
		chromedp.Flag("lang", "it-IT"), chromedp.Flag("accept-lang", "it-IT,it"), chromedp.WindowSize(1280, 900),
	}
	// The browser lives as long as this context: no timeout here, only on the steps.
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		storetest.RequirePeer(t, "chromium starting", err)
		return nil
	}
	return ctx
}

// browserStep runs browser actions with a timeout, failing the test with what was being done.
func browserStep(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// browserEval evaluates a JavaScript expression in the page.
func browserEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %q: %v", expr, err)
	}
	return v
}

// browserWait waits until a JavaScript expression is truthy in the page; it keeps asking across
// navigations (a form pagePost loads a new page).
func browserWait(t *testing.T, ctx context.Context, what, expr string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	var last error
	for time.Now().Before(deadline) {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		ok, err := chromedp.Run(sctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 2000) : ""`))
	t.Fatalf("%s: not true after %s (last error: %v)\npage text:\n%s", what, d, last, body)
}

var browserShotName = regexp.MustCompile(`[^a-z0-9_-]+`)

// browserScreenshot saves the whole page under integration/testoutput/ (git-ignored).
func browserScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := "testoutput"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, browserShotName.ReplaceAllString(strings.ToLower(name), "-")+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pageClient is a cookie-keeping client for the page tests that need no browser.
func pageClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

var pageCSRFInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// pageGet fetches a page and returns status, body and the form's CSRF token (if any).
func pageGet(t *testing.T, c *http.Client, u string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	tok := ""
	if m := pageCSRFInput.FindStringSubmatch(string(b)); m != nil {
		tok = m[1]
	}
	return resp.StatusCode, string(b), tok
}

func pagePost(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return resp, string(b)
}

// pageLogin signs a client in and fails the test otherwise.
func pageLogin(t *testing.T, c *http.Client, base, username string) {
	t.Helper()
	_, _, tok := pageGet(t, c, base+"/login")
	resp, body := pagePost(t, c, base+"/login", url.Values{"csrf": {tok}, "username": {username}, "password": {browserPassword}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/inbox" {
		t.Fatalf("login %s: %d %s %s", username, resp.StatusCode, resp.Header.Get("Location"), body)
	}
}
