package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/twilioemu"
)

const (
	sendTestSID   = "AC0123456789abcdef0123456789abcdef"
	sendTestToken = "0123456789abcdef0123456789abcdef"
	sendTestFrom  = "+390550550"
	sendTestTo    = "+393471234567"
)

// emulated starts an emulator and a Sender pointed at it.
func emulated(t *testing.T, eo twilioemu.Options, so SenderOptions) (*twilioemu.Emulator, *Sender) {
	t.Helper()
	eo.AccountSID, eo.AuthToken = sendTestSID, sendTestToken
	emu := twilioemu.New(eo)
	srv := httptest.NewServer(emu)
	t.Cleanup(func() {
		srv.Close()
		_ = emu.Close() // pending callbacks of a finished test do not matter
	})
	if so.AccountSID == "" {
		so.AccountSID = sendTestSID
	}
	if so.AuthToken == "" {
		so.AuthToken = sendTestToken
	}
	if so.From == "" && so.MessagingServiceSID == "" {
		so.From = sendTestFrom
	}
	if so.APIBaseURL == "" {
		so.APIBaseURL = srv.URL
	}
	s, err := NewSender(so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return emu, s
}

func sms(to, body string) channels.OutboundMessage {
	return channels.OutboundMessage{Channel: channels.SMS, To: to, Body: body}
}

// wantSendError checks err is a *channels.SendError with that code and permanence.
func wantSendError(t *testing.T, err error, code int, permanent bool) *channels.SendError {
	t.Helper()
	var se *channels.SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *channels.SendError", err, err)
	}
	if se.Code != code || se.Permanent != permanent {
		t.Fatalf("SendError{Code: %d, Permanent: %v, %q}, want code %d permanent %v", se.Code, se.Permanent, se.Message, code, permanent)
	}
	return se
}

func TestNewSenderValidates(t *testing.T) {
	ok := SenderOptions{AccountSID: sendTestSID, AuthToken: sendTestToken, From: sendTestFrom}
	cases := map[string]func(o *SenderOptions){
		"no account":         func(o *SenderOptions) { o.AccountSID = "" },
		"account with dash":  func(o *SenderOptions) { o.AccountSID = "AC-1" },
		"no token":           func(o *SenderOptions) { o.AuthToken = "" },
		"no sender":          func(o *SenderOptions) { o.From = "" },
		"relative base URL":  func(o *SenderOptions) { o.APIBaseURL = "/twilio" },
		"ftp base URL":       func(o *SenderOptions) { o.APIBaseURL = "ftp://x" },
		"negative timeout":   func(o *SenderOptions) { o.Timeout = -time.Second },
		"token with symbols": func(o *SenderOptions) { o.AuthToken = "s3cr3t!" },
	}
	for name, mutate := range cases {
		o := ok
		mutate(&o)
		if _, err := NewSender(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	o := ok
	o.AuthToken = "pa$$word"
	if _, err := NewSender(o); !errors.Is(err, ErrAuthTokenNotAlphanumeric) {
		t.Fatalf("non-alphanumeric token: %v, want ErrAuthTokenNotAlphanumeric", err)
	}
	if _, err := NewSender(ok); err != nil {
		t.Fatal(err)
	}
	o = ok
	o.From, o.MessagingServiceSID = "", "MG0123456789abcdef0123456789abcdef"
	if _, err := NewSender(o); err != nil {
		t.Fatalf("messaging service alone: %v", err)
	}
}

// TestTwilioGoRefusesSymbolsLocally documents why NewSender rejects such tokens: twilio-go itself
// answers 21224 without sending anything.
func TestTwilioGoRefusesSymbolsLocally(t *testing.T) {
	c := &twclient.Client{Credentials: twclient.NewCredentials(sendTestSID, "pa$$word"), HTTPClient: &http.Client{
		Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			t.Fatal("twilio-go sent a request with an invalid token")
			return nil, nil
		}),
		Timeout: time.Second,
	}}
	_, err := c.SendRequest(http.MethodPost, "https://api.twilio.com/x", url.Values{}, nil)
	var rest *twclient.TwilioRestError
	if !errors.As(err, &rest) || rest.Code != 21224 {
		t.Fatalf("got %v, want TwilioRestError 21224", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestSendSuccess(t *testing.T) {
	emu, s := emulated(t, twilioemu.Options{}, SenderOptions{})
	out := sms(sendTestTo, "La ZTL è attiva fino alle 19:30")
	out.StatusCallback = "https://gw.example/webhooks/twilio/status"
	res, err := s.Send(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.ExternalID, "SM") || len(res.ExternalID) != 34 || res.Status != "queued" {
		t.Fatalf("result %+v", res)
	}
	msgs := emu.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages at Twilio", len(msgs))
	}
	m := msgs[0]
	if m.Sid != res.ExternalID || m.To != sendTestTo || m.From != sendTestFrom || m.Body != out.Body || m.StatusCallback != out.StatusCallback || m.AccountSid != sendTestSID {
		t.Fatalf("Twilio got %+v", m)
	}

	// From on the message overrides the default.
	out = sms(sendTestTo, "altro")
	out.From = "Comune"
	if _, err := s.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	if m := emu.Messages()[1]; m.From != "Comune" {
		t.Fatalf("From %q, want the override", m.From)
	}
	if emu.Duplicates() != 0 {
		t.Fatal("duplicates")
	}
}

func TestSendThroughMessagingServiceWithMedia(t *testing.T) {
	service := "MG0123456789abcdef0123456789abcdef"
	emu, s := emulated(t, twilioemu.Options{}, SenderOptions{MessagingServiceSID: service})
	out := sms(sendTestTo, "foto")
	out.Attachments = []channels.Attachment{{Filename: "a.jpg", URL: "https://gw.example/media/a.jpg"}}
	res, err := s.Send(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "accepted" || !strings.HasPrefix(res.ExternalID, "MM") {
		t.Fatalf("result %+v", res)
	}
	m := emu.Messages()[0]
	if m.MessagingServiceSid != service || m.From != "" || len(m.MediaURLs) != 1 || m.MediaURLs[0] != "https://gw.example/media/a.jpg" {
		t.Fatalf("Twilio got %+v", m)
	}

	out.Attachments = []channels.Attachment{{Filename: "inline.png", Data: []byte("x")}}
	_, err = s.Send(context.Background(), out)
	_ = wantSendError(t, err, 0, true)
	out.Channel = channels.Email
	_, err = s.Send(context.Background(), out)
	_ = wantSendError(t, err, 0, true)
	if emu.Count() != 1 {
		t.Fatalf("refused locally yet %d messages at Twilio", emu.Count())
	}
}

func TestSendErrors(t *testing.T) {
	emu, s := emulated(t, twilioemu.Options{Unsubscribed: []string{"+393470000001"}}, SenderOptions{})
	ctx := context.Background()

	se := wantSendError(t, sendErr(s.Send(ctx, sms("+39123", "x"))), 21211, true)
	if !strings.Contains(se.Message, "not a valid phone number") {
		t.Fatalf("message %q", se.Message)
	}
	_ = wantSendError(t, sendErr(s.Send(ctx, sms("+393470000001", "x"))), 21610, true)
	_ = wantSendError(t, sendErr(s.Send(ctx, sms(sendTestTo, strings.Repeat("a", 1601)))), 21617, true)
	_ = wantSendError(t, sendErr(s.Send(ctx, sms(sendTestTo, ""))), 21602, true)

	emu.SetOutage(http.StatusServiceUnavailable, 0)
	_ = wantSendError(t, sendErr(s.Send(ctx, sms(sendTestTo, "x"))), 20503, false)
	emu.SetOutage(http.StatusInternalServerError, 0)
	_ = wantSendError(t, sendErr(s.Send(ctx, sms(sendTestTo, "x"))), 20500, false)
	emu.EndOutage()

	emu.SetRateLimit(1, 1)
	if _, err := s.Send(ctx, sms(sendTestTo, "first")); err != nil {
		t.Fatal(err)
	}
	_ = wantSendError(t, sendErr(s.Send(ctx, sms(sendTestTo, "second"))), 20429, false)
	emu.SetRateLimit(0, 0)

	if n := emu.Count(); n != 1 {
		t.Fatalf("%d messages accepted, want only the first", n)
	}
}

func sendErr(_ channels.SendResult, err error) error { return err }

func TestSendWrongCredentials(t *testing.T) {
	emu, s := emulated(t, twilioemu.Options{}, SenderOptions{AuthToken: "wrongtoken123"})
	se := wantSendError(t, sendErr(s.Send(context.Background(), sms(sendTestTo, "x"))), 20003, true)
	if se.Message != "Authenticate" {
		t.Fatalf("message %q", se.Message)
	}
	if emu.Rejections()[20003] != 1 {
		t.Fatal("the emulator did not see the refused call")
	}
}

// TestSendNonTwilioAnswers covers answers from something other than Twilio's API (a proxy, a load
// balancer): the HTTP status alone decides.
func TestSendNonTwilioAnswers(t *testing.T) {
	cases := []struct {
		status    int
		body      string
		permanent bool
	}{
		{http.StatusBadGateway, "<html>Bad Gateway</html>", false},
		{http.StatusServiceUnavailable, "", false},
		{http.StatusTooManyRequests, "slow down", false},
		{http.StatusNotFound, "<html>no</html>", true},
		{http.StatusCreated, "{not json", true}, // accepted: a retry would send it twice
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(c.status)
				_, _ = io.WriteString(w, c.body)
			}))
			defer srv.Close()
			s, err := NewSender(SenderOptions{AccountSID: sendTestSID, AuthToken: sendTestToken, From: sendTestFrom, APIBaseURL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			_ = wantSendError(t, sendErr(s.Send(context.Background(), sms(sendTestTo, "x"))), 0, c.permanent)
		})
	}
}

func TestSendNetworkErrorIsTemporary(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there any more
	s, err := NewSender(SenderOptions{AccountSID: sendTestSID, AuthToken: sendTestToken, From: sendTestFrom, APIBaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	se := wantSendError(t, sendErr(s.Send(context.Background(), sms(sendTestTo, "x"))), 0, false)
	if !strings.Contains(se.Message, "unreachable") {
		t.Fatalf("message %q", se.Message)
	}
}

func TestSendHonoursContextAndTimeout(t *testing.T) {
	emu, s := emulated(t, twilioemu.Options{Latency: 2 * time.Second}, SenderOptions{})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Send(ctx, sms(sendTestTo, "x"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("returned after %v: the context did not abort the call", d)
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel2)
	if _, err := s.Send(ctx2, sms(sendTestTo, "x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if _, err := s.Send(ctx2, sms(sendTestTo, "x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("already cancelled: %v", err)
	}

	// The Sender's own timeout is a temporary failure, not the caller's cancellation.
	_, fast := emulated(t, twilioemu.Options{Latency: 2 * time.Second}, SenderOptions{Timeout: 50 * time.Millisecond})
	start = time.Now()
	_ = wantSendError(t, sendErr(fast.Send(context.Background(), sms(sendTestTo, "x"))), 0, false)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("timeout took %v", d)
	}
	if emu.Count() != 0 {
		t.Fatal("a cancelled request was accepted")
	}
}

func TestSendWithBaseURLPrefixAndSuppliedClient(t *testing.T) {
	emu := twilioemu.New(twilioemu.Options{AccountSID: sendTestSID, AuthToken: sendTestToken})
	defer func() { _ = emu.Close() }()
	mux := http.NewServeMux()
	mux.Handle("/twilio/", http.StripPrefix("/twilio", emu))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var calls int
	var mu sync.Mutex
	counting := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		return srv.Client().Transport.RoundTrip(r)
	})
	s, err := NewSender(SenderOptions{AccountSID: sendTestSID, AuthToken: sendTestToken, From: sendTestFrom,
		APIBaseURL: srv.URL + "/twilio/", HTTPClient: &http.Client{Transport: counting, Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), sms(sendTestTo, "x")); err != nil {
		t.Fatal(err)
	}
	if emu.Count() != 1 || calls != 1 {
		t.Fatalf("count %d, calls through the supplied transport %d", emu.Count(), calls)
	}
}

func TestSendConcurrentExactlyOnce(t *testing.T) {
	emu, s := emulated(t, twilioemu.Options{}, SenderOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Go(func() {
			if _, err := s.Send(context.Background(), sms(sendTestTo, fmt.Sprintf("avviso %d", i))); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if emu.Count() != 50 || emu.Duplicates() != 0 {
		t.Fatalf("count %d duplicates %d", emu.Count(), emu.Duplicates())
	}
}

// TestStatusCallbackEndToEnd: the StatusCallback given to Send is where the emulator posts signed
// status updates, which twilio-go's validator accepts.
func TestStatusCallbackEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var statuses []string
	validator := twclient.NewRequestValidator(sendTestToken)
	var cbURL string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !validator.ValidateBody(cbURL, body, r.Header.Get("X-Twilio-Signature")) {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		form, _ := url.ParseQuery(string(body))
		mu.Lock()
		statuses = append(statuses, form.Get("MessageStatus"))
		mu.Unlock()
	}))
	defer receiver.Close()
	cbURL = receiver.URL + "/webhooks/twilio/status"
	emu, s := emulated(t, twilioemu.Options{}, SenderOptions{})
	out := sms(sendTestTo, "x")
	out.StatusCallback = cbURL
	if _, err := s.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := emu.WaitCallbacks(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(statuses) != "[sent delivered]" {
		t.Fatalf("callbacks %v", statuses)
	}
}

func TestSendIsPermanent(t *testing.T) {
	cases := []struct {
		code, status int
		permanent    bool
	}{
		{21211, 400, true}, {21610, 400, true}, {21614, 400, true}, {21612, 400, true},
		{21408, 400, true}, {21602, 400, true}, {21617, 400, true}, {21606, 400, true},
		{20003, 401, true}, {20404, 404, true},
		{20429, 429, false}, {0, 429, false}, {21611, 400, false},
		{20500, 500, false}, {20503, 503, false}, {0, 502, false}, {0, 0, false},
	}
	for _, c := range cases {
		if got := sendIsPermanent(c.code, c.status); got != c.permanent {
			t.Errorf("sendIsPermanent(%d, %d) = %v", c.code, c.status, got)
		}
	}
}

// BenchmarkSend measures Sender throughput against the emulator over loopback HTTP, parallel.
func BenchmarkSend(b *testing.B) {
	emu := twilioemu.New(twilioemu.Options{AccountSID: sendTestSID, AuthToken: sendTestToken, CallbackDelay: time.Hour})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	defer func() { _ = emu.Close() }()
	s, err := NewSender(SenderOptions{AccountSID: sendTestSID, AuthToken: sendTestToken, From: sendTestFrom, APIBaseURL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			b.Error(err)
		}
	}()
	var n sync.Mutex
	i := 0
	b.SetParallelism(8) // 8 goroutines per CPU: requests overlap as a gateway's senders do
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n.Lock()
			i++
			body := fmt.Sprintf("avviso %d", i)
			n.Unlock()
			if _, err := s.Send(context.Background(), sms(sendTestTo, body)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.StopTimer()
	if emu.Duplicates() != 0 || emu.Count() != i {
		b.Fatalf("count %d of %d, duplicates %d", emu.Count(), i, emu.Duplicates())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// A send that could not connect keeps the network error as its cause, so callers classify it
// with errors.Is/As rather than by its text.
func TestSendErrorKeepsItsCause(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	s, err := NewSender(SenderOptions{AccountSID: sendTestSID, AuthToken: sendTestToken, From: sendTestFrom, APIBaseURL: "http://" + addr, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), sms(sendTestTo, "ciao"))
	se := wantSendError(t, err, 0, false)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("the refused connection is not in the error chain: %#v", se)
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Errorf("no dial *net.OpError in the chain of %v", err)
	}
}
