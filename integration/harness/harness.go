// Package harness starts real Sportello gateways for end-to-end tests: in-process on
// 127.0.0.1:0 (gateway.New + Run, exactly what `sportello serve` runs) or as the built binary
// in a subprocess (for kill -9), on SQLite or on a fresh PostgreSQL database, and talks to them
// the way their peers do (Twilio-signed webhooks, bearer tokens).
package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/adapters/twilio"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/gateway"
	"github.com/sportello/sportello/integration/gwconfig"
	"github.com/sportello/sportello/integration/twilioemu"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
	"github.com/sportello/sportello/web/auth"
)

// AuthToken and PublicURL are what the test gateways are configured with.
const (
	AccountSID = "AC00000000000000000000000000000000"
	AuthToken  = "testauthtoken0123456789"
	PublicURL  = "https://sportello.test"
	CTIToken   = "cti-test-token-0123456789"
	TwilioFrom = "+390550550"
	// TwilioAPIPlaceholder in a config is replaced by the URL of the gateway's own emulator.
	TwilioAPIPlaceholder = "__TWILIO_API__"
)

// BaseYAML is the test configuration: two comuni and a shared number. %s are the data dir and
// the database URL; Extra is appended.
const BaseYAML = `
data_dir: %q
database_url: %q
public_url: ` + PublicURL + `
http:
  listen: 127.0.0.1:0
smtp:
  listen: ""
twilio:
  account_sid: ` + AccountSID + `
  auth_token: ` + AuthToken + `
  from: "` + TwilioFrom + `"
  api_base_url: ` + TwilioAPIPlaceholder + `
cti:
  token: ` + CTIToken + `
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
    topics: [traffico]
    offices:
      - id: polizia-municipale
        name: Polizia Municipale
        email: pm@comune.fi.it
        phone: "+390553283333"
        categories: [contravvenzioni]
  - id: empoli
    name: Comune di Empoli
    phone_numbers: ["+39057175761"]
    email_addresses: ["urp@comune.empoli.fi.it"]
    topics: [traffico]
`

// Options tune a test gateway.
type Options struct {
	Dialect store.Dialect
	// Extra YAML appended to BaseYAML (later keys must not repeat earlier ones).
	Extra string
	// Replace, when set, is the whole YAML (with two %q for data dir and database URL).
	Replace string
	// DataDir and DatabaseURL reuse an existing database (restarts); empty makes new ones.
	DataDir     string
	DatabaseURL string
}

// Gateway is a running in-process gateway.
type Gateway struct {
	G *gateway.Gateway
	// Twilio is the emulator the gateway's twilio.api_base_url points at; its status
	// callbacks reach the gateway.
	Twilio      *twilioemu.Emulator
	URL         string
	Config      *config.Config
	DataDir     string
	DatabaseURL string
	cancel      context.CancelFunc
	done        chan error
	stopOnce    sync.Once
}

// ConfigYAML renders the YAML for opts with the given data dir and database URL; the Twilio
// API placeholder becomes twilioURL.
func ConfigYAML(opts Options, dataDir, dbURL string) string {
	return ConfigYAMLWithTwilio(opts, dataDir, dbURL, "http://127.0.0.1:9")
}

// ConfigYAMLWithTwilio is ConfigYAML with the Twilio API at twilioURL.
func ConfigYAMLWithTwilio(opts Options, dataDir, dbURL, twilioURL string) string {
	y := fmt.Sprintf(BaseYAML, dataDir, dbURL) + opts.Extra
	if opts.Replace != "" {
		y = fmt.Sprintf(opts.Replace, dataDir, dbURL)
	}
	return strings.ReplaceAll(y, TwilioAPIPlaceholder, twilioURL)
}

// EmulatedYAML is the config of a gateway process (StartProcess) whose Twilio is a test's own
// emulator at twilioURL, with this harness's credentials (see gwconfig.Emulated).
func EmulatedYAML(dataDir, dbURL, addr, twilioURL string, rate int) string {
	return gwconfig.Emulated{DataDir: dataDir, DatabaseURL: dbURL, Addr: addr, TwilioURL: twilioURL,
		AccountSID: AccountSID, AuthToken: AuthToken, From: TwilioFrom, Rate: rate}.YAML()
}

// gatewayTransport sends the emulator's status callbacks, signed for PublicURL, to the
// gateway's real address once it is known.
type gatewayTransport struct {
	mu     sync.Mutex
	target string
}

func (t *gatewayTransport) set(u string) { t.mu.Lock(); t.target = u; t.mu.Unlock() }

func (t *gatewayTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	target := t.target
	t.mu.Unlock()
	u, err := url.Parse(target)
	if err != nil || target == "" {
		return nil, fmt.Errorf("gateway address not known yet")
	}
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = u.Scheme, u.Host, ""
	return http.DefaultTransport.RoundTrip(req)
}

// NewEmulator starts a Twilio emulator whose callbacks go to the address set later through
// the returned function.
func NewEmulator(t testing.TB) (*twilioemu.Emulator, func(gatewayURL string)) {
	t.Helper()
	tr := &gatewayTransport{}
	emu := twilioemu.New(twilioemu.Options{AccountSID: AccountSID, AuthToken: AuthToken, OwnedNumbers: []string{TwilioFrom, "+39055055", "+390552768000", "+39057175761"},
		CallbackClient: &http.Client{Timeout: 10 * time.Second, Transport: tr}})
	if _, err := emu.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	return emu, tr.set
}

// Start runs a gateway until the test ends.
func Start(t testing.TB, opts Options) *Gateway {
	t.Helper()
	if opts.Dialect == "" {
		opts.Dialect = store.SQLite
	}
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if opts.DatabaseURL == "" && opts.Dialect == store.Postgres {
		opts.DatabaseURL = storetest.NewDatabaseURL(t, store.Postgres)
	}
	emu, setTarget := NewEmulator(t)
	yaml := ConfigYAMLWithTwilio(opts, opts.DataDir, opts.DatabaseURL, emu.URL())
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	// Alerts in tests go when sent, whatever the hour the suite runs at; a test of the quiet
	// hours sets alerts.quiet_hours itself.
	if !strings.Contains(yaml, "quiet_hours") {
		cfg.Alerts.QuietHours = "off"
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("SPORTELLO_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	g, err := gateway.New(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	gw := &Gateway{G: g, Twilio: emu, Config: cfg, DataDir: opts.DataDir, DatabaseURL: opts.DatabaseURL, cancel: cancel, done: make(chan error, 1)}
	ready := make(chan struct{})
	go func() { gw.done <- g.Run(ctx, ready) }()
	select {
	case <-ready:
	case err := <-gw.done:
		cancel()
		_ = g.Close()
		t.Fatalf("gateway did not start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("gateway did not start within 30s")
	}
	gw.URL = "http://" + g.HTTPAddr()
	setTarget(gw.URL)
	t.Cleanup(func() { gw.Stop(t) })
	return gw
}

// Stop shuts the gateway down gracefully and closes its store.
func (g *Gateway) Stop(t testing.TB) {
	g.stopOnce.Do(func() {
		g.cancel()
		select {
		case err := <-g.done:
			if err != nil {
				t.Errorf("gateway run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("gateway did not stop within 30s")
		}
		_ = g.G.Close()
	})
}

// Signature computes X-Twilio-Signature the way Twilio does.
func Signature(token, fullURL string, form url.Values) string {
	return twilio.Signature(token, fullURL, form)
}

// Client is the HTTP client tests use (with a timeout, never http.DefaultClient).
var Client = &http.Client{Timeout: 30 * time.Second}

// PostTwilio posts a form to base+path signed for PublicURL+path, as Twilio would.
func PostTwilio(t testing.TB, base, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	return PostTwilioSigned(t, base, path, form, Signature(AuthToken, PublicURL+path, form))
}

// PostTwilioSigned posts with the given signature ("" = no header).
func PostTwilioSigned(t testing.TB, base, path string, form url.Values, sig string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig != "" {
		req.Header.Set("X-Twilio-Signature", sig)
	}
	return Do(t, req)
}

// Do sends a request and reads the whole body.
func Do(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// SMSForm is an inbound SMS webhook's fields as Twilio sends them.
func SMSForm(sid, from, to, body string) url.Values {
	return url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {AccountSID}, "MessagingServiceSid": {""},
		"From": {from}, "To": {to}, "Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"}, "SmsStatus": {"received"},
		"FromCity": {"FIRENZE"}, "FromCountry": {"IT"}, "ToCountry": {"IT"}, "ApiVersion": {"2010-04-01"}}
}

// CallForm is an inbound call webhook's fields.
func CallForm(sid, from, to, status string) url.Values {
	return url.Values{"CallSid": {sid}, "AccountSid": {AccountSID}, "From": {from}, "To": {to}, "CallStatus": {status},
		"Direction": {"inbound"}, "ApiVersion": {"2010-04-01"}, "Caller": {from}, "Called": {to}}
}

// User creates a user directly in the store and returns an API token for it.
func (g *Gateway) User(t testing.TB, username, role string, comuni ...string) string {
	t.Helper()
	ctx := context.Background()
	hash, err := auth.HashPassword("password-" + username)
	if err != nil {
		t.Fatal(err)
	}
	u, err := g.G.Store.CreateUser(ctx, store.User{Username: username, Role: role, PasswordHash: hash, Comuni: comuni})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := g.G.Store.CreateToken(ctx, u.ID, store.TokenAPI, 0)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// API calls the gateway's JSON API with a bearer token; body may be nil. It decodes the answer
// into out when out is not nil and returns the status.
func API(t testing.TB, method, url, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, text := Do(t, req)
	if out != nil && text != "" {
		if err := json.Unmarshal([]byte(text), out); err != nil {
			t.Fatalf("%s %s: %d %q: %v", method, url, resp.StatusCode, text, err)
		}
	}
	return resp.StatusCode
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds ./cmd/sportello once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sportello-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sportello")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		// The commit at link time, as the docs say to build: `sportello version` names it.
		args := []string{"build", "-o", binPath}
		if rev, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output(); err == nil {
			args = append(args, "-ldflags", "-X main.commit="+strings.TrimSpace(string(rev)))
		}
		cmd := exec.Command("go", append(args, "./cmd/sportello")...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}
