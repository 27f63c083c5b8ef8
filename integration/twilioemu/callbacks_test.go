package twilioemu

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	twclient "github.com/twilio/twilio-go/client"
)

// receiver is a gateway stand-in that records callbacks and checks their signatures with
// twilio-go's own validator.
type receiver struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	got      []url.Values
	badSig   int
	answers  []int // status codes to answer, in order; then 204
	inFlight atomic.Int32
	peak     atomic.Int32
	delay    time.Duration // a slow gateway: each callback is held this long, so callbacks overlap
	tokens   []string
}

func newReceiver(t *testing.T, token string) *receiver {
	rc := &receiver{t: t}
	validator := twclient.NewRequestValidator(token)
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := rc.inFlight.Add(1)
		defer rc.inFlight.Add(-1)
		for {
			p := rc.peak.Load()
			if n <= p || rc.peak.CompareAndSwap(p, n) {
				break
			}
		}
		if rc.delay > 0 {
			time.Sleep(rc.delay)
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("callback form: %v", err)
		}
		params := map[string]string{}
		for k := range r.PostForm {
			params[k] = r.PostForm.Get(k)
		}
		fullURL := rc.srv.URL + r.URL.RequestURI()
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if !validator.Validate(fullURL, params, r.Header.Get("X-Twilio-Signature")) {
			rc.badSig++
		}
		rc.got = append(rc.got, r.PostForm)
		rc.tokens = append(rc.tokens, r.Header.Get("I-Twilio-Idempotency-Token"))
		status := http.StatusNoContent
		if len(rc.answers) > 0 {
			status, rc.answers = rc.answers[0], rc.answers[1:]
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) received() []url.Values {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]url.Values(nil), rc.got...)
}

func waitCallbacks(t *testing.T, emu *Emulator) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := emu.WaitCallbacks(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestStatusCallbacksSignedSentThenDelivered(t *testing.T) {
	rc := newReceiver(t, testToken)
	emu, base := startEmu(t, Options{CallbackDelay: 20 * time.Millisecond, DeliveryDelay: 20 * time.Millisecond})
	cb := rc.srv.URL + "/webhooks/twilio/status?comune=firenze"
	start := time.Now()
	a := send(t, base, form("To", testTo, "From", testFrom, "Body", "ciao", "StatusCallback", cb))
	sid := a.body["sid"].(string)
	waitCallbacks(t, emu)
	if elapsed := time.Since(start); elapsed < 40*time.Millisecond {
		t.Fatalf("both callbacks within %v: delays not honoured", elapsed)
	}
	got := rc.received()
	if len(got) != 2 {
		t.Fatalf("%d callbacks, want 2", len(got))
	}
	if rc.badSig != 0 {
		t.Fatalf("%d callbacks failed twilio-go's signature check", rc.badSig)
	}
	for i, status := range []string{"sent", "delivered"} {
		p := got[i]
		want := map[string]string{"MessageSid": sid, "MessageStatus": status, "SmsSid": sid, "SmsStatus": status,
			"AccountSid": testSID, "From": testFrom, "To": testTo, "ApiVersion": "2010-04-01"}
		for k, v := range want {
			if p.Get(k) != v {
				t.Errorf("callback %d: %s = %q, want %q", i, k, p.Get(k), v)
			}
		}
		if p.Has("ErrorCode") {
			t.Errorf("callback %d has ErrorCode", i)
		}
	}
	if rc.tokens[0] == "" || rc.tokens[0] == rc.tokens[1] {
		t.Fatalf("idempotency tokens %q", rc.tokens)
	}
	m, _ := emu.Message(sid)
	if m.Status != "delivered" || m.SentAt.IsZero() {
		t.Fatalf("message after callbacks: %+v", m)
	}
	g := do(t, http.MethodGet, base+"/2010-04-01/Accounts/"+testSID+"/Messages/"+sid+".json", testSID, testToken, nil)
	if g.body["status"] != "delivered" || g.body["date_sent"] == nil {
		t.Fatalf("GET after delivery: %s", g.raw)
	}
	if ok, failed, pending := emu.CallbackStats(); ok != 2 || failed != 0 || pending != 0 {
		t.Fatalf("stats %d %d %d", ok, failed, pending)
	}
}

func TestStatusCallbacksFailures(t *testing.T) {
	rc := newReceiver(t, testToken)
	emu, base := startEmu(t, Options{FailNumbers: map[string]int{"+393470000003": 30003, "+393470000004": 30001}})
	a := send(t, base, form("To", "+393470000003", "From", testFrom, "Body", "x", "StatusCallback", rc.srv.URL+"/status"))
	undelivered := a.body["sid"].(string)
	waitCallbacks(t, emu)
	a = send(t, base, form("To", "+393470000004", "From", testFrom, "Body", "x", "StatusCallback", rc.srv.URL+"/status"))
	failed := a.body["sid"].(string)
	waitCallbacks(t, emu)
	got := rc.received()
	var seq []string
	for _, p := range got {
		seq = append(seq, fmt.Sprintf("%s:%s:%s", p.Get("MessageSid"), p.Get("MessageStatus"), p.Get("ErrorCode")))
	}
	want := []string{undelivered + ":sent:", undelivered + ":undelivered:30003", failed + ":failed:30001"}
	if fmt.Sprint(seq) != fmt.Sprint(want) {
		t.Fatalf("callbacks %v\nwant %v", seq, want)
	}
	m, _ := emu.Message(undelivered)
	if m.Status != "undelivered" || m.ErrorCode != 30003 {
		t.Fatalf("message %+v", m)
	}
	if rc.badSig != 0 {
		t.Fatal("bad signature")
	}
}

func TestStatusCallbackRetries(t *testing.T) {
	rc := newReceiver(t, testToken)
	rc.answers = []int{500, 503, 200, 400}
	emu, base := startEmu(t, Options{CallbackBackoff: 5 * time.Millisecond})
	send(t, base, form("To", testTo, "From", testFrom, "Body", "x", "StatusCallback", rc.srv.URL+"/status"))
	waitCallbacks(t, emu)
	got := rc.received()
	// sent: 500, 503, 200 (three attempts); delivered: 400, not retried.
	if len(got) != 4 {
		t.Fatalf("%d callback requests, want 4", len(got))
	}
	statuses := []string{got[0].Get("MessageStatus"), got[1].Get("MessageStatus"), got[2].Get("MessageStatus"), got[3].Get("MessageStatus")}
	if fmt.Sprint(statuses) != "[sent sent sent delivered]" {
		t.Fatalf("order %v", statuses)
	}
	if rc.tokens[0] != rc.tokens[2] || rc.tokens[2] == rc.tokens[3] {
		t.Fatalf("a retry must repeat its idempotency token: %v", rc.tokens)
	}
	recs := emu.Callbacks()
	if len(recs) != 4 || recs[2].Attempt != 3 || !recs[2].Final || recs[0].Final || recs[3].StatusCode != 400 || !recs[3].Final {
		t.Fatalf("records %+v", recs)
	}
	if ok, failed, _ := emu.CallbackStats(); ok != 1 || failed != 1 {
		t.Fatalf("ok %d failed %d", ok, failed)
	}

	// An unreachable receiver is tried CallbackAttempts times, then given up.
	emu2, base2 := startEmu(t, Options{CallbackAttempts: 2, CallbackBackoff: time.Millisecond})
	send(t, base2, form("To", testTo, "From", testFrom, "Body", "x", "StatusCallback", "http://127.0.0.1:1/cb"))
	waitCallbacks(t, emu2)
	if recs := emu2.Callbacks(); len(recs) != 4 || recs[0].Err == "" || recs[1].Attempt != 2 {
		t.Fatalf("unreachable: %+v", recs)
	}
}

func TestCallbackWorkersBounded(t *testing.T) {
	rc := newReceiver(t, testToken)
	rc.delay = 20 * time.Millisecond
	// All callbacks fall due together, so the pool is saturated.
	emu, base := startEmu(t, Options{CallbackWorkers: 3, CallbackDelay: 300 * time.Millisecond})
	for i := range 20 {
		send(t, base, form("To", testTo, "From", testFrom, "Body", fmt.Sprint(i), "StatusCallback", rc.srv.URL+"/status"))
	}
	waitCallbacks(t, emu)
	if n := len(rc.received()); n != 40 {
		t.Fatalf("%d callbacks, want 40", n)
	}
	if p := rc.peak.Load(); p != 3 {
		t.Fatalf("peak concurrent callbacks %d, want 3 (the pool size)", p)
	}

	// Many scheduled callbacks do not mean many goroutines.
	slow, base2 := startEmu(t, Options{CallbackDelay: time.Hour})
	before := runtime.NumGoroutine()
	for i := range 300 {
		send(t, base2, form("To", testTo, "From", testFrom, "Body", fmt.Sprint(i), "StatusCallback", rc.srv.URL+"/status"))
	}
	if _, _, pending := slow.CallbackStats(); pending != 300 {
		t.Fatalf("pending %d", pending)
	}
	if grown := runtime.NumGoroutine() - before; grown > 20 {
		t.Fatalf("goroutines grew by %d for 300 scheduled callbacks", grown)
	}
	if err := slow.Close(); err == nil {
		t.Fatal("Close with 300 pending steps reported nothing")
	}
}
