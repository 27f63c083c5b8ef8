package twilioemu

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestOutage(t *testing.T) {
	emu, base := startEmu(t, Options{})
	ok := form("To", testTo, "From", testFrom, "Body", "x")
	start := time.Now()
	emu.SetOutage(http.StatusServiceUnavailable, 500*time.Millisecond)
	wantTwilioError(t, send(t, base, ok), http.StatusServiceUnavailable, 20503)
	// During an outage even bad credentials get the outage answer, as Twilio's front end is down.
	wantTwilioError(t, do(t, http.MethodPost, messagesURL(base, testSID), testSID, "bad", ok), http.StatusServiceUnavailable, 20503)
	for {
		a := send(t, base, ok)
		if a.status == http.StatusCreated {
			break
		}
		wantTwilioError(t, a, http.StatusServiceUnavailable, 20503)
		if time.Since(start) > 5*time.Second {
			t.Fatal("the outage did not end by itself")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Fatalf("outage of 500ms ended after %v", d)
	}
	emu.SetOutage(http.StatusInternalServerError, 0)
	wantTwilioError(t, send(t, base, ok), http.StatusInternalServerError, 20500)
	emu.EndOutage()
	if a := send(t, base, ok); a.status != http.StatusCreated {
		t.Fatalf("after EndOutage: %d", a.status)
	}
	if emu.Count() != 2 {
		t.Fatalf("count %d", emu.Count())
	}
}

func TestRateLimit(t *testing.T) {
	emu, base := startEmu(t, Options{RateLimit: 1, RateBurst: 5})
	ok := form("To", testTo, "From", testFrom, "Body", "x")
	accepted, limited := 0, 0
	for range 10 {
		a := send(t, base, ok)
		switch a.status {
		case http.StatusCreated:
			accepted++
		case http.StatusTooManyRequests:
			wantTwilioError(t, a, http.StatusTooManyRequests, 20429)
			limited++
		default:
			t.Fatalf("HTTP %d", a.status)
		}
	}
	if accepted < 5 || accepted > 6 || limited != 10-accepted {
		t.Fatalf("burst of 10 at limit 1/s burst 5: %d accepted, %d limited", accepted, limited)
	}
	time.Sleep(1100 * time.Millisecond) // refills one token
	if a := send(t, base, ok); a.status != http.StatusCreated {
		t.Fatalf("after refill: %d", a.status)
	}
	emu.SetRateLimit(0, 0)
	for range 20 {
		if a := send(t, base, ok); a.status != http.StatusCreated {
			t.Fatalf("limit removed: %d", a.status)
		}
	}
	if emu.Rejections()[20429] != limited {
		t.Fatalf("rejections %v", emu.Rejections())
	}
}

func TestLatencyAndPerNumberErrors(t *testing.T) {
	emu, base := startEmu(t, Options{})
	emu.SetLatency(80 * time.Millisecond)
	start := time.Now()
	send(t, base, form("To", testTo, "From", testFrom, "Body", "x"))
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Fatalf("answered in %v with 80ms latency", d)
	}
	emu.SetLatency(0)

	emu.FailNumber(testTo, 21211)
	wantTwilioError(t, send(t, base, form("To", testTo, "From", testFrom, "Body", "x")), http.StatusBadRequest, 21211)
	emu.ClearNumber(testTo)
	emu.Unsubscribe(testTo)
	if !emu.IsUnsubscribed(testTo) {
		t.Fatal("not unsubscribed")
	}
	wantTwilioError(t, send(t, base, form("To", testTo, "From", testFrom, "Body", "x")), http.StatusBadRequest, 21610)
	emu.Resubscribe(testTo)
	if a := send(t, base, form("To", testTo, "From", testFrom, "Body", "x")); a.status != http.StatusCreated {
		t.Fatalf("after resubscribe: %d", a.status)
	}
}

func TestControlEndpoints(t *testing.T) {
	emu, base := startEmu(t, Options{})
	ctl := func(method, path string) int {
		return do(t, method, base+"/_emulator/"+path, testSID, testToken, nil).status
	}
	if s := do(t, http.MethodGet, base+"/_emulator/stats", "", "", nil).status; s != http.StatusUnauthorized {
		t.Fatalf("stats without credentials: %d", s)
	}
	if s := ctl(http.MethodPost, "outage?status=503&duration=1h"); s != http.StatusNoContent {
		t.Fatalf("outage: %d", s)
	}
	wantTwilioError(t, send(t, base, form("To", testTo, "From", testFrom, "Body", "x")), http.StatusServiceUnavailable, 20503)
	ctl(http.MethodDelete, "outage")
	if s := ctl(http.MethodPost, "numbers?number=+393470000009&code=21211"); s != http.StatusNoContent {
		t.Fatalf("numbers: %d", s)
	}
	wantTwilioError(t, send(t, base, form("To", "+393470000009", "From", testFrom, "Body", "x")), http.StatusBadRequest, 21211)
	ctl(http.MethodPost, "unsubscribed?number=%2B393470000008")
	if !emu.IsUnsubscribed("+393470000008") {
		t.Fatal("unsubscribe through the control endpoint")
	}
	ctl(http.MethodPost, "ratelimit?rps=1&burst=1")
	send(t, base, form("To", testTo, "From", testFrom, "Body", "x"))
	wantTwilioError(t, send(t, base, form("To", testTo, "From", testFrom, "Body", "x")), http.StatusTooManyRequests, 20429)
	if s := ctl(http.MethodPost, "outage?status=200"); s != http.StatusBadRequest {
		t.Fatalf("outage 200 accepted: %d", s)
	}
	a := do(t, http.MethodGet, base+"/_emulator/stats", testSID, testToken, nil)
	if a.body["messages"] != float64(1) {
		t.Fatalf("stats %s", a.raw)
	}
	ctl(http.MethodPost, "reset")
	if emu.Count() != 0 {
		t.Fatal("reset")
	}
}

func TestInspection(t *testing.T) {
	emu, base := startEmu(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	waited := make(chan error, 1)
	go func() { waited <- emu.WaitFor(ctx, 30) }()

	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			body := fmt.Sprintf("alert %d", i%25) // five bodies repeat: five duplicates
			// Not send: its t.Fatal must not run off the test's goroutine.
			if _, err := tryDo(http.MethodPost, messagesURL(base, testSID), testSID, testToken, form("To", testTo, "From", testFrom, "Body", body)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	if emu.Duplicates() != 5 {
		t.Fatalf("duplicates %d, want 5", emu.Duplicates())
	}
	dl := emu.DuplicateList()
	if len(dl) != 5 || dl[0].Count != 2 {
		t.Fatalf("duplicate list %+v", dl)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if err := emu.WaitFor(short, 31); err == nil {
		t.Fatal("WaitFor(31) returned without the 31st message")
	}
	if r := emu.Rate(10 * time.Second); r < 2.9 || r > 3.1 {
		t.Fatalf("rate over 10s = %v, want 3", r)
	}
	if p := emu.PeakRate(time.Second); p != 30 {
		t.Fatalf("peak rate %v, want 30 (all within a second)", p)
	}
}

func TestRateMeasurement(t *testing.T) {
	emu := New(Options{})
	defer func() {
		if err := emu.Close(); err != nil {
			t.Error(err)
		}
	}()
	// Arrival times are injected so the arithmetic is checked exactly, free of scheduling noise:
	// 20 messages 25 ms apart (40/s), then a burst of 10 within 10 ms two seconds later.
	t0 := time.Now().Add(-10 * time.Second)
	add := func(at time.Time) {
		emu.mu.Lock()
		emu.messages = append(emu.messages, &message{Message: Message{Received: at}})
		emu.mu.Unlock()
	}
	for i := range 20 {
		add(t0.Add(time.Duration(i) * 25 * time.Millisecond))
	}
	for i := range 10 {
		add(t0.Add(2*time.Second + time.Duration(i)*time.Millisecond))
	}
	if r := emu.RateBetween(t0, t0.Add(500*time.Millisecond)); r != 40 {
		t.Fatalf("rate over the paced half second %v, want 40", r)
	}
	if p := emu.PeakRate(time.Second); p != 20 {
		t.Fatalf("peak over 1s windows %v, want 20", p)
	}
	if p := emu.PeakRate(100 * time.Millisecond); p != 100 {
		t.Fatalf("peak over 100ms windows %v, want 100 (the burst)", p)
	}
	if r := emu.Rate(time.Second); r != 0 {
		t.Fatalf("rate over the last second %v, want 0", r)
	}
}
