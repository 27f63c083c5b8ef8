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

	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := f.svc.Run(runCtx); err != nil {
			t.Error(err)
		}
	}()
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
	cancel()
	wg.Wait()
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
	err = f.s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO alert_early_status (sid, status, error_code, at) VALUES (?, 'delivered', '', ?)",
			fmt.Sprintf("SM%032d", 1), store.Micros(f.clock.Now()))
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
