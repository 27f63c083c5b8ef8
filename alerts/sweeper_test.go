package alerts

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/store"
)

// failingLookup is a provider whose message list does not answer (an outage).
type failingLookup struct{ calls atomic.Int64 }

func (l *failingLookup) FindSent(ctx context.Context, to, body string, since time.Time) ([]string, error) {
	l.calls.Add(1)
	return nil, errors.New("twilio message list: HTTP 503")
}

// 250 interrupted sends while the provider's message list is down: the sweep makes one
// bounded pass and backs off instead of asking again and again, and the heartbeat, on its own
// ticker, keeps the replica alive in the others' eyes the whole time.
func TestOrphanSweepBacksOffAndHeartbeatKeepsBeating(t *testing.T) {
	lookup := &failingLookup{}
	f := newFixture(t, 100000, 100, func(o *Options) {
		o.Lookup = lookup
		o.SweepEvery = 10 * time.Millisecond
		o.HeartbeatEvery = 50 * time.Millisecond
		o.SenderID = "sweeper"
	})
	ctx := context.Background()
	f.subscribe(t, "firenze", phones("+39347", 250)...)
	f.snd.acceptThenFail = func(string) error { return errors.New("read tcp: i/o timeout") }
	a, _, err := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Prova", Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	f.sendAll(t, a.ID)
	if c, _ := f.as.CountRecipients(ctx, a.ID); c.Sending != 250 {
		t.Fatalf("want 250 interrupted sends: %+v", c)
	}

	stop := f.run(t)
	// Sample the heartbeat's age while the sweep meets the outage.
	worst := time.Duration(0)
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		var beat int64
		if err := f.s.QueryRow(ctx, "SELECT heartbeat_at FROM alert_senders WHERE id = ?", "sweeper").Scan(&beat); err != nil {
			t.Fatal(err)
		}
		worst = max(worst, time.Since(store.FromMicros(beat)))
	}
	stop()
	if n := lookup.calls.Load(); n > 250 {
		t.Fatalf("%d lookups in 1.5 s for 250 orphans while the provider is down: a storm", n)
	}
	if worst > time.Second {
		t.Fatalf("the heartbeat went %v without a beat during the sweep (beats every 50ms)", worst)
	}
	if c, _ := f.as.CountRecipients(ctx, a.ID); c.Sending != 250 {
		t.Fatalf("nothing may be decided without the provider: %+v", c)
	}
}

// A delivery callback held for a send that was recorded after the hold, by a process that
// stopped before its second look, is applied by the next settling pass.
func TestSettlingAppliesHeldCallbacks(t *testing.T) {
	f := newFixture(t, 100000, 100)
	ctx := context.Background()
	f.subscribe(t, "firenze", phones("+39347", 2)...)
	a, _, err := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Prova", Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	f.sendAll(t, a.ID)
	sid := fmt.Sprintf("SM%032d", 1)
	var seq int64
	if err := f.s.QueryRow(ctx, "SELECT seq FROM alert_recipients WHERE alert_id = ? AND sid = ?", a.ID, sid).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	err = f.s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO alert_early_status (sid, alert_id, seq, status, error_code, at) VALUES (?, ?, ?, 'delivered', '', ?)",
			sid, a.ID, seq, store.Micros(f.clock.Now()))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SettleOrphans(ctx); err != nil {
		t.Fatal(err)
	}
	if c, _ := f.as.CountRecipients(ctx, a.ID); c.Delivered != 1 || c.Sent != 1 {
		t.Fatalf("counts %+v, want the held callback applied", c)
	}
}

// slowLookup is the fake provider's message list at a round trip's pace. It counts how many
// lookups run at once, overall and for one number.
type slowLookup struct {
	inner   Lookup
	delay   time.Duration
	mu      sync.Mutex
	now     int
	peak    int
	byPhone map[string]int
	clash   bool // two lookups for one number at once
}

func (l *slowLookup) FindSent(ctx context.Context, to, body string, since time.Time) ([]string, error) {
	l.mu.Lock()
	l.now++
	l.peak = max(l.peak, l.now)
	if l.byPhone[to]++; l.byPhone[to] > 1 {
		l.clash = true
	}
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.now--
		l.byPhone[to]--
		l.mu.Unlock()
	}()
	time.Sleep(l.delay)
	return l.inner.FindSent(ctx, to, body, since)
}

// Two alerts with the same text reach the same 60 numbers, and every send is interrupted
// after the provider took it (a process killed mid-fan-out): 120 orphans, two a number. One
// pass settles them several at a time, never two of one number at once, and each recipient
// gets its own message of the provider's, none twice and none resent.
func TestSettlingAsksTheProviderSeveralAtATimeButANumberInTurn(t *testing.T) {
	f := newFixture(t, 100000, 100)
	lookup := &slowLookup{inner: f.snd, delay: 20 * time.Millisecond, byPhone: map[string]int{}}
	f.svc.o.Lookup = lookup
	ctx := context.Background()
	list := phones("+39347", 60)
	f.subscribe(t, "firenze", list...)
	f.snd.acceptThenFail = func(string) error { return errors.New("read tcp: i/o timeout") }
	var ids []string
	for range 2 {
		a, _, err := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Domani blocco del traffico", Source: "api"})
		if err != nil {
			t.Fatal(err)
		}
		f.sendAll(t, a.ID)
		ids = append(ids, a.ID)
	}
	f.snd.acceptThenFail = nil
	start := time.Now()
	if err := f.svc.SettleOrphans(ctx); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if lookup.peak < 2 || lookup.clash {
		t.Fatalf("at most %d lookups at once; two for one number at once: %v", lookup.peak, lookup.clash)
	}
	// One at a time, 120 lookups of 20 ms take 2.4 s.
	if took > 1500*time.Millisecond {
		t.Fatalf("120 orphans settled in %v", took)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		c, _ := f.as.CountRecipients(ctx, id)
		if c.Sent != 60 {
			t.Fatalf("alert %s: %+v", id, c)
		}
		rows, err := f.s.Query(ctx, "SELECT sid FROM alert_recipients WHERE alert_id = ?", id)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var sid string
			if err := rows.Scan(&sid); err != nil {
				t.Fatal(err)
			}
			if seen[sid] {
				t.Fatalf("message %s given to two recipients", sid)
			}
			seen[sid] = true
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if f.snd.total() != 120 {
		t.Fatalf("%d messages at the provider for 120 recipients", f.snd.total())
	}
}

// 600 interrupted sends, more than one pass takes: while the provider answers, the passes
// follow each other at the sweep's pace, not SettleAfter's (here 4 s, a pass every 2 s).
func TestFullSettlingPassIsFollowedAtTheNextTick(t *testing.T) {
	f := newFixture(t, 100000, 100, func(o *Options) {
		o.SweepEvery = 10 * time.Millisecond
		o.SettleAfter = 4 * time.Second
		o.SenderID = "sweeper"
	})
	ctx := context.Background()
	f.subscribe(t, "firenze", phones("+39347", settleLimit+100)...)
	f.snd.acceptThenFail = func(string) error { return errors.New("read tcp: i/o timeout") }
	a, _, err := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Prova", Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	f.sendAll(t, a.ID)
	f.snd.acceptThenFail = nil
	if c, _ := f.as.CountRecipients(ctx, a.ID); c.Sending != settleLimit+100 {
		t.Fatalf("want %d interrupted sends: %+v", settleLimit+100, c)
	}
	f.clock.Advance(5 * time.Second) // past SettleAfter

	defer f.run(t)()
	start := time.Now()
	for {
		c, _ := f.as.CountRecipients(ctx, a.ID)
		if c.Sending == 0 {
			if c.Sent != settleLimit+100 {
				t.Fatalf("settled: %+v", c)
			}
			t.Logf("%d orphans settled in %v", settleLimit+100, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > 1500*time.Millisecond {
			t.Fatalf("after %v, still %+v (the second pass waits SettleAfter/2 = 2 s)", time.Since(start).Round(time.Millisecond), c)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// run runs the service's background loop until the returned stop is called.
func (f *fixture) run(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := f.svc.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
