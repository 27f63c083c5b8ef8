package alerts

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store/alertstore"
)

// syncBuffer is a log sink the sweeper and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// gauge is the stalled-alerts gauge; every stall check sets it, so sets counts the checks.
type gauge struct {
	mu   sync.Mutex
	v    float64
	sets int
}

func (g *gauge) Set(v float64) { g.mu.Lock(); g.v = v; g.sets++; g.mu.Unlock() }
func (g *gauge) get() float64  { g.mu.Lock(); defer g.mu.Unlock(); return g.v }
func (g *gauge) checks() int   { g.mu.Lock(); defer g.mu.Unlock(); return g.sets }

// The provider refuses every send: the alert makes no progress, and says so (with the reason,
// in its status, in the gauge, and once in the log); when the provider is back it finishes and
// the mark goes away.
func TestStalledAlertSaysSoOnceWithTheReason(t *testing.T) {
	logs := &syncBuffer{}
	g := &gauge{}
	f := newFixture(t, 100000, 100, func(o *Options) {
		// Long enough for the batch's first refusals to be recorded before the first check
		// even under -race (at 300 ms, 1 run in 5 named a worker making no progress instead).
		o.StallAfter = time.Second
		o.SweepEvery = 10 * time.Millisecond
		o.HeartbeatEvery = 50 * time.Millisecond // the fixture's processes are dead after 300ms
		o.Stalled = g
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	ctx := context.Background()
	f.subscribe(t, "firenze", phones("+39347", 50)...)
	var mu sync.Mutex
	down := true
	f.snd.refuse = func(string) error {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return &channels.SendError{Code: 20503, Message: "Service Unavailable"}
		}
		return nil
	}
	a, _, err := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Prova", Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = f.svc.Run(runCtx) }()
	batchErr := make(chan error, 1)
	go func() { defer wg.Done(); batchErr <- f.svc.SendBatch(runCtx, a.ID, 0) }()

	waitFor(t, 5*time.Second, "the alert to be reported stalled", func() bool {
		st, err := f.svc.GetAlert(ctx, "firenze", a.ID)
		return err == nil && st.StalledAt != nil
	})
	st, _ := f.svc.GetAlert(ctx, "firenze", a.ID)
	if !strings.Contains(st.StallReason, "Service Unavailable") {
		t.Fatalf("stall reason %q does not say the provider refuses", st.StallReason)
	}
	waitFor(t, 2*time.Second, "the gauge to count it", func() bool { return g.get() == 1 })
	more := g.checks() + 3
	waitFor(t, 5*time.Second, "three more stall checks while still stalled", func() bool { return g.checks() >= more })
	if n := strings.Count(logs.String(), "alert stalled"); n != 1 {
		t.Fatalf("the stall was logged %d times, want once:\n%s", n, logs.String())
	}

	mu.Lock()
	down = false
	mu.Unlock()
	waitFor(t, 10*time.Second, "the alert to finish and the stall to clear", func() bool {
		st, err := f.svc.GetAlert(ctx, "firenze", a.ID)
		return err == nil && st.Status == alertstore.AlertSent && st.StalledAt == nil && g.get() == 0
	})
	cancel()
	wg.Wait()
	if err := <-batchErr; err != nil {
		t.Fatal(err)
	}
	if got := f.snd.countTo(); len(got) != 50 {
		t.Fatalf("%d of 50 after the outage", len(got))
	}
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Status callbacks of an alert's messages are claimed (whatever their status); others are not.
func TestAlertClaimsItsOwnDeliveries(t *testing.T) {
	f := newFixture(t, 100000, 100)
	ctx := context.Background()
	f.subscribe(t, "firenze", phones("+39347", 3)...)
	a, _, err := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Prova", Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	f.sendAll(t, a.ID)
	var sid string
	for s := range f.snd.sids {
		sid = s
	}
	for _, status := range []string{"sent", "delivered"} {
		if owned, err := f.svc.ClaimDelivery(ctx, f.snd.callback(t, sid, status)); !owned || err != nil {
			t.Fatalf("%s callback of an alert's message not claimed: %v %v", status, owned, err)
		}
	}
	if owned, err := f.svc.ClaimDelivery(ctx, channels.DeliveryUpdate{Channel: channels.SMS, ExternalID: "SMnotours", Status: "sent"}); owned || err != nil {
		t.Fatalf("another message's callback claimed: %v %v", owned, err)
	}
	if st, _ := f.svc.GetAlert(ctx, "firenze", a.ID); st.Counts.Delivered != 1 {
		t.Fatalf("%+v", st.Counts)
	}
}
