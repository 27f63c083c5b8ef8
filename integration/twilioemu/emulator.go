// Package twilioemu is a Twilio emulator for Sportello's tests and benchmarks. It answers the
// Programmable Messaging REST API the way Twilio does (HTTP Basic auth, form parameters, Twilio's
// error codes and JSON shapes), sends signed status callbacks from a bounded worker pool, injects
// faults (outages, 429 rate limits, per-number errors, latency) and records everything it accepted
// so a test can prove exactly-once delivery and pacing. Signer and the Post* helpers drive a
// gateway's webhooks the way Twilio would.
//
// In-process:
//
//	emu := twilioemu.New(twilioemu.Options{AccountSID: sid, AuthToken: token})
//	defer emu.Close()
//	srv := httptest.NewServer(emu) // or: baseURL, err := emu.Start("127.0.0.1:0")
//
// Standalone: go run ./integration/twilioemu/cmd/twilioemu -listen 127.0.0.1:8099.
package twilioemu

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"
)

// Defaults used when Options leaves a field empty.
const (
	DefaultAccountSID       = "AC00000000000000000000000000000000"
	DefaultAuthToken        = "emulatorauthtoken"
	DefaultCallbackWorkers  = 4
	DefaultCallbackAttempts = 4
	DefaultCallbackBackoff  = 50 * time.Millisecond
	DefaultCallbackTimeout  = 5 * time.Second
	// APIVersion is the only REST API version the emulator speaks.
	APIVersion = "2010-04-01"
)

// Options configures an Emulator. Zero values get the defaults above.
type Options struct {
	AccountSID string
	AuthToken  string

	// OwnedNumbers, when set, are the only phone numbers From may be (alphanumeric sender IDs are
	// always accepted); any other From is refused with 21606, as Twilio refuses a number the
	// account does not own.
	OwnedNumbers []string
	// MessagingServiceSIDs, when set, are the only MessagingServiceSid values accepted (21701).
	MessagingServiceSIDs []string

	// CallbackDelay is the time from acceptance to the "sent" status (and its callback);
	// DeliveryDelay the time from "sent" to "delivered" (or "undelivered").
	CallbackDelay time.Duration
	DeliveryDelay time.Duration
	// CallbackWorkers bounds how many status callbacks are in flight at once.
	CallbackWorkers int
	// CallbackAttempts is how many times one callback is tried when the receiver answers 5xx or
	// cannot be reached; CallbackBackoff is the wait before the first retry, doubled each time.
	CallbackAttempts int
	CallbackBackoff  time.Duration
	CallbackTimeout  time.Duration
	// CallbackClient sends the callbacks; by default a client with CallbackTimeout.
	CallbackClient *http.Client

	// Latency is added to every REST answer.
	Latency time.Duration
	// RateLimit is the number of message creations per second accepted before Twilio's 429
	// (code 20429); 0 means no limit. RateBurst is the bucket size (default: RateLimit rounded up).
	RateLimit float64
	RateBurst int

	// Unsubscribed numbers answered with 21610, as after the citizen texted STOP.
	Unsubscribed []string
	// FailNumbers maps a To number to a Twilio error code. 21xxx codes refuse the REST request
	// (400); 30xxx codes accept it and fail delivery later (status "undelivered", or "failed"
	// for 30001/30002) with that ErrorCode in the callback.
	FailNumbers map[string]int
	// DisableMagicNumbers turns off Twilio's test numbers (+15005550001 invalid, ...0002 not
	// routable, ...0003 no permission for the region, ...0004 unsubscribed, ...0009 not mobile).
	DisableMagicNumbers bool

	// Logf, when set, receives one line per notable event (callback failures, faults).
	Logf func(format string, args ...any)

	// PauseScale shortens a call's <Pause>: it lasts its length times PauseScale (default 0.01,
	// so a waiting caller's 20 s pause takes 200 ms; 1 is real time).
	PauseScale float64
}

var (
	accountSIDPattern = regexp.MustCompile(`^AC[0-9a-zA-Z]{32}$`)
	serviceSIDPattern = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
)

// magicTo are Twilio's documented test-credential recipients and what they answer.
var magicTo = map[string]int{
	"+15005550001": 21211,
	"+15005550002": 21612,
	"+15005550003": 21408,
	"+15005550004": 21610,
	"+15005550009": 21614,
}

// magicFrom are Twilio's test-credential senders that fail.
var magicFrom = map[string]int{
	"+15005550001": 21212,
	"+15005550007": 21606,
	"+15005550008": 21611,
}

func (o *Options) setDefaults() {
	if o.AccountSID == "" {
		o.AccountSID = DefaultAccountSID
	}
	if o.AuthToken == "" {
		o.AuthToken = DefaultAuthToken
	}
	if o.CallbackWorkers == 0 {
		o.CallbackWorkers = DefaultCallbackWorkers
	}
	if o.CallbackAttempts == 0 {
		o.CallbackAttempts = DefaultCallbackAttempts
	}
	if o.CallbackBackoff == 0 {
		o.CallbackBackoff = DefaultCallbackBackoff
	}
	if o.CallbackTimeout == 0 {
		o.CallbackTimeout = DefaultCallbackTimeout
	}
	if o.PauseScale == 0 {
		o.PauseScale = 0.01
	}
	if o.RateLimit > 0 && o.RateBurst == 0 {
		o.RateBurst = int(math.Ceil(o.RateLimit))
	}
}

// Validate reports what is wrong with the options after defaults are filled in.
func (o Options) Validate() error {
	o.setDefaults()
	if !accountSIDPattern.MatchString(o.AccountSID) {
		return fmt.Errorf("twilioemu: AccountSID %q is not AC followed by 32 letters or digits", o.AccountSID)
	}
	switch {
	case o.CallbackDelay < 0, o.DeliveryDelay < 0, o.Latency < 0, o.CallbackBackoff < 0, o.CallbackTimeout < 0:
		return errors.New("twilioemu: delays and timeouts must not be negative")
	case o.CallbackWorkers < 0 || o.CallbackWorkers > 1024:
		return errors.New("twilioemu: CallbackWorkers must be between 1 and 1024")
	case o.CallbackAttempts < 0:
		return errors.New("twilioemu: CallbackAttempts must be at least 1")
	case o.RateLimit < 0 || o.RateBurst < 0:
		return errors.New("twilioemu: RateLimit and RateBurst must not be negative")
	}
	for _, sid := range o.MessagingServiceSIDs {
		if !serviceSIDPattern.MatchString(sid) {
			return fmt.Errorf("twilioemu: messaging service sid %q is not MG followed by 32 hex digits", sid)
		}
	}
	return nil
}

// Emulator is a fake Twilio. It is an http.Handler; Close it to stop its callback workers.
type Emulator struct {
	opts     Options
	sig      Signer
	cbClient *http.Client

	mu           sync.Mutex
	messages     []*message
	bySid        map[string]*message
	sentPairs    map[string]int // To + "\x00" + Body -> times accepted
	duplicates   int
	arrived      chan struct{} // closed and replaced whenever a message is accepted
	requests     int
	rejections   map[int]int
	unsubscribed map[string]bool
	failNumbers  map[string]int
	outageStatus int
	outageUntil  time.Time // zero with outageStatus set: until EndOutage
	latency      time.Duration
	bucket       tokenBucket

	cb    *callbacks
	voice *voiceState

	srvMu   sync.Mutex
	server  *http.Server
	baseURL string
}

// New returns a running emulator. It panics on invalid options (a test's programming error);
// call Options.Validate first when the options come from a user.
func New(opts Options) *Emulator {
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	opts.setDefaults()
	e := &Emulator{
		opts:         opts,
		sig:          Signer{AccountSID: opts.AccountSID, AuthToken: opts.AuthToken},
		bySid:        make(map[string]*message),
		sentPairs:    make(map[string]int),
		arrived:      make(chan struct{}),
		rejections:   make(map[int]int),
		unsubscribed: make(map[string]bool),
		failNumbers:  make(map[string]int),
		latency:      opts.Latency,
		voice:        newVoiceState(),
	}
	e.bucket.set(opts.RateLimit, opts.RateBurst, time.Now())
	for _, n := range opts.Unsubscribed {
		e.unsubscribed[n] = true
	}
	for n, code := range opts.FailNumbers {
		e.failNumbers[n] = code
	}
	e.cbClient = opts.CallbackClient
	if e.cbClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = opts.CallbackWorkers
		e.cbClient = &http.Client{Transport: tr, Timeout: opts.CallbackTimeout}
	}
	e.cb = startCallbacks(e)
	return e
}

// AccountSID is the account the emulator serves.
func (e *Emulator) AccountSID() string { return e.opts.AccountSID }

// AuthToken is the token REST clients authenticate with and callbacks are signed with.
func (e *Emulator) AuthToken() string { return e.opts.AuthToken }

// Signer signs requests with the emulator's account and token.
func (e *Emulator) Signer() Signer { return e.sig }

// Start serves the emulator on addr (for example "127.0.0.1:0") and returns its base URL.
func (e *Emulator) Start(addr string) (string, error) {
	e.srvMu.Lock()
	defer e.srvMu.Unlock()
	if e.server != nil {
		return "", errors.New("twilioemu: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("twilioemu: listen %s: %w", addr, err)
	}
	e.server = &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	e.baseURL = "http://" + ln.Addr().String()
	go func() {
		if err := e.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.logf("twilioemu: serve: %v", err)
		}
	}()
	return e.baseURL, nil
}

// URL is the base URL Start listens on ("" before Start).
func (e *Emulator) URL() string {
	e.srvMu.Lock()
	defer e.srvMu.Unlock()
	return e.baseURL
}

// Close stops the server started by Start and the callback workers. Callbacks still pending are
// abandoned; their number is returned in the error, if any.
func (e *Emulator) Close() error {
	e.srvMu.Lock()
	srv := e.server
	e.server = nil
	e.srvMu.Unlock()
	var errs []error
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("twilioemu: shutdown: %w", err))
		}
		cancel()
	}
	e.hangUpAll()
	if n := e.cb.stop(); n > 0 {
		errs = append(errs, fmt.Errorf("twilioemu: %d status callbacks abandoned at close", n))
	}
	return errors.Join(errs...)
}

func (e *Emulator) logf(format string, args ...any) {
	if e.opts.Logf != nil {
		e.opts.Logf(format, args...)
	}
}

// tokenBucket is the 429 limiter; guarded by Emulator.mu.
type tokenBucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func (b *tokenBucket) set(rate float64, burst int, now time.Time) {
	b.rate, b.burst, b.tokens, b.last = rate, float64(burst), float64(burst), now
}

func (b *tokenBucket) allow(now time.Time) bool {
	if b.rate <= 0 {
		return true
	}
	b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}
