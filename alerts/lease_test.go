package alerts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/store/storetest"
)

// A worker that stops making progress while its process stays alive (a hung call, a worker
// dead inside a live process): its heartbeat keeps beating, yet after the lease its batch is
// taken back, its in-flight sends are settled with the provider's record, and another worker
// finishes the batch. Nobody is skipped or sent twice, and the stuck worker, if it wakes,
// claims nothing more.
func TestStuckWorkerLosesItsBatchToTheLease(t *testing.T) {
	f := newFixture(t, 100000, 100, func(o *Options) { o.LeaseFor = 300 * time.Millisecond })
	ctx := context.Background()
	list := phones("+39347", 250)
	f.subscribe(t, "firenze", list...)
	a, _, err := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Prova", Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	stuck := "stuck-process"
	lease := f.interruptedClaim(t, a.ID, stuck)
	f.sendAll(t, a.ID)
	if c, _ := f.as.CountRecipients(ctx, a.ID); c.Sending != 40 || c.Queued != 60 {
		t.Fatalf("batch 0 was taken while its worker still held the lease: %+v", c)
	}
	// Alive but stuck: the batch makes no progress for longer than the lease, and the heartbeat
	// goes on.
	f.clock.Advance(400 * time.Millisecond)
	if err := f.as.Heartbeat(ctx, stuck); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SettleOrphans(ctx); err != nil {
		t.Fatal(err)
	}
	f.sendAll(t, a.ID)
	f.wantEachOnce(t, 250, "a live but stuck worker kept its batch")
	if st, _ := f.svc.GetAlert(ctx, "firenze", a.ID); st.Status != alertstore.AlertSent || st.Counts.Sent != 250 {
		t.Fatalf("%+v", st)
	}
	// The stuck worker wakes up: it no longer holds the batch and may claim nothing.
	if _, err := f.as.ClaimRecipients(ctx, a.ID, 0, []int64{0, 1}, lease); !errors.Is(err, alertstore.ErrLeaseLost) {
		t.Fatalf("a worker that lost its lease claimed again: %v", err)
	}
}

// panicPublisher panics at its first n publishes: a bug inside a fan-out worker.
type panicPublisher struct{ left atomic.Int64 }

func (p *panicPublisher) Publish(context.Context, events.Event) error {
	if p.left.Add(-1) >= 0 {
		panic("a bug in the fan-out")
	}
	return nil
}

// A panic inside a batch's worker hands the batch back at once: another replica resumes it
// without waiting for anything to expire.
func TestPanicInWorkerHandsTheBatchBack(t *testing.T) {
	pub := &panicPublisher{}
	// 200/s: chunks of 20, so the panic comes after the first chunk, mid-batch.
	f := newFixture(t, 200, 100, func(o *Options) { o.Events = pub; o.SenderID = "buggy" })
	ctx := context.Background()
	f.subscribe(t, "firenze", phones("+39347", 100)...)
	a, _, err := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Prova", Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	pub.left.Store(1)
	clear(f.svc.lastProgress) // the first chunk's progress is published (and panics)
	err = func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("the panic escaped the worker: %v", p)
			}
		}()
		return f.svc.SendBatch(ctx, a.ID, 0)
	}()
	if err == nil {
		t.Fatal("a batch that panicked reported success")
	}
	var owner *string
	var status string
	if err := f.s.QueryRow(ctx, "SELECT status, owner FROM alert_batches WHERE alert_id = ? AND batch = 0", a.ID).Scan(&status, &owner); err != nil {
		t.Fatal(err)
	}
	if status != "pending" || owner != nil {
		t.Fatalf("after a panic the batch is %s, owned by %v (%v)", status, owner, err)
	}
	other, err := New(Options{Store: f.s, Config: f.cfg, Sender: func() channels.Sender { return f.snd }, Lookup: f.snd,
		Logger: quietLog(), SenderID: "healthy", StaleAfter: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.SendBatch(ctx, a.ID, 0); err != nil {
		t.Fatal(err)
	}
	f.wantEachOnce(t, 100, "the batch was not resumed after the panic")
}

// A claim whose sends wait too long for the process's request slots (a slow provider, many
// batches at once) stops handing them over a quarter of a lease after the claim: the rest go
// back to the queue, so nothing of that claim is still in flight when its lease runs out.
func TestSlowClaimHandsBackWhatItCannotSendInTime(t *testing.T) {
	f := newFixture(t, 100000, 100, func(o *Options) {
		o.LeaseFor = 400 * time.Millisecond // sends start at most 100ms after their claim
		o.MaxInFlight = 1
	})
	f.snd.delay = 30 * time.Millisecond
	ctx := context.Background()
	f.subscribe(t, "firenze", phones("+39347", 20)...)
	a, _, err := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Prova", Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	f.sendAll(t, a.ID)
	f.wantEachOnce(t, 20, "what was handed back was not sent")
	var again int
	if err := f.s.QueryRow(ctx, "SELECT COUNT(*) FROM alert_recipients WHERE alert_id = ? AND attempts > 1", a.ID).Scan(&again); err != nil {
		t.Fatal(err)
	}
	if again == 0 {
		t.Fatal("a claim of 20 at 30ms each, one at a time, was all handed over in one go: no time bound")
	}
	t.Logf("%d recipients were handed back and claimed again", again)
}

// gatedSender holds the first hold sends until open is closed (a worker whose chunk is in
// flight) and counts every send.
type gatedSender struct {
	inner channels.Sender
	hold  int64
	calls atomic.Int64
	open  chan struct{}
}

func (g *gatedSender) Send(ctx context.Context, m channels.OutboundMessage) (channels.SendResult, error) {
	if g.calls.Add(1) <= g.hold {
		select {
		case <-g.open:
		case <-ctx.Done():
			return channels.SendResult{}, ctx.Err()
		}
	}
	return g.inner.Send(ctx, m)
}

// River runs a batch's job a second time in the process whose first run is still sending it
// (a rescued or re-enqueued job). The second worker must leave the batch alone: it sends
// nothing while the first holds it, and the first finishes the batch with everyone sent once.
func TestSecondWorkerOfTheSameProcessSendsNothing(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(strings.ToLower(string(d)), func(t *testing.T) { secondWorkerSendsNothing(t, d) })
	}
}

func secondWorkerSendsNothing(t *testing.T, d store.Dialect) {
	const chunk = 20 // 200/s: a chunk is a tenth of a second
	gate := &gatedSender{hold: chunk, open: make(chan struct{})}
	f := newFixtureOn(t, d, 200, 100, func(o *Options) {
		inner := o.Sender
		o.Sender = func() channels.Sender { gate.inner = inner(); return gate }
		o.StaleAfter = time.Minute // one heartbeat keeps the process alive for the whole test
	})
	ctx := context.Background()
	if err := f.as.Heartbeat(ctx, f.svc.o.SenderID); err != nil {
		t.Fatal(err)
	}
	f.subscribe(t, "firenze", phones("+39347", 100)...)
	a, _, err := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Prova", Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	firstDone := make(chan error, 1)
	go func() { firstDone <- f.svc.SendBatch(ctx, a.ID, 0) }()
	waitFor(t, 10*time.Second, "the first worker's chunk in flight", func() bool { return gate.calls.Load() == chunk })
	if err := f.svc.SendBatch(ctx, a.ID, 0); err != nil {
		t.Fatal(err)
	}
	if n := gate.calls.Load(); n != chunk {
		close(gate.open)
		t.Fatalf("a second worker of the same process sent %d messages of a batch the first one holds", n-chunk)
	}
	close(gate.open)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	f.wantEachOnce(t, 100, "the first worker did not finish its batch")
}
