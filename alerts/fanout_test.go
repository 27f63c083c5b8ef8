package alerts

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store/alertstore"
)

func TestFanoutSendsEachRecipientOnce(t *testing.T) {
	f := newFixture(t, 100000, 50)
	ctx := context.Background()
	list := phones("+39347", 1000)
	f.subscribe(t, "firenze", list...)
	f.subscribe(t, "empoli", phones("+39348", 10)...)
	f.snd.refuse = func(to string) error {
		switch to {
		case list[7]:
			return &channels.SendError{Code: 21211, Message: "invalid", Permanent: true}
		case list[8]:
			return &channels.SendError{Code: 21610, Message: "unsubscribed", Permanent: true}
		}
		return nil
	}
	a, _, err := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Prova", Source: "api"})
	if err != nil || a.Recipients != 1000 {
		t.Fatalf("%+v %v", a, err)
	}
	// The start wrote the first batch; the prepare job writes the others, each with its job.
	if err := f.svc.prepare(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	var jobs int
	if err := f.s.QueryRow(ctx, "SELECT COUNT(*) FROM river_job WHERE kind = 'alert_fanout'").Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if jobs != 20 {
		t.Fatalf("%d fan-out jobs for 1000 recipients in batches of 50", jobs)
	}
	f.sendAll(t, a.ID)
	f.wantEachOnce(t, 998, "all but the two refused for good")
	st, _ := f.svc.GetAlert(ctx, "firenze", a.ID)
	if st.Status != alertstore.AlertSent || st.Counts.Sent != 998 || st.Counts.Failed != 2 || st.Counts.Queued+st.Counts.Sending != 0 {
		t.Fatalf("%+v", st)
	}
	if out, _ := f.as.IsOptedOut(ctx, list[8]); !out {
		t.Fatal("21610 did not turn the subscriber off")
	}
	if s := status(t, f, "firenze", list[8]); s != alertstore.SubscriberStopped {
		t.Fatalf("21610 subscriber is %s", s)
	}
	// The template went out, and the status callback URL with it.
	if m := f.snd.accepted[0]; m.Body != "Firenze: Prova" || m.StatusCallback == "" {
		t.Fatalf("%+v", m)
	}
	// Status callbacks move recipients on; ones for other messages are not ours.
	var sid string
	if err := f.s.QueryRow(ctx, "SELECT sid FROM alert_recipients WHERE alert_id = ? AND seq = 1", a.ID).Scan(&sid); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{"sent", "delivered", "sent"} {
		if err := f.svc.UpdateDelivery(ctx, f.snd.callback(t, sid, st)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.UpdateDelivery(ctx, channels.DeliveryUpdate{ExternalID: "SMother", Status: "delivered", Channel: channels.SMS}); err != nil {
		t.Fatal(err)
	}
	st, _ = f.svc.GetAlert(ctx, "firenze", a.ID)
	if st.Counts.Delivered != 1 || st.Counts.Sent != 997 {
		t.Fatalf("after callbacks %+v", st.Counts)
	}
}

func TestFanoutWaitsOutAnOutage(t *testing.T) {
	f := newFixture(t, 100000, 100)
	ctx := context.Background()
	f.subscribe(t, "firenze", phones("+39347", 300)...)
	var mu sync.Mutex
	down := true
	refused := 0
	f.snd.refuse = func(string) error {
		mu.Lock()
		defer mu.Unlock()
		if down {
			refused++
			if refused == 150 {
				down = false
			}
			return &channels.SendError{Code: 20503, Message: "Service Unavailable"}
		}
		return nil
	}
	a, _, err := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Prova", Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	f.sendAll(t, a.ID)
	if refused != 150 {
		t.Fatalf("%d refused, want the outage's 150", refused)
	}
	f.wantEachOnce(t, 300, "not all were sent after the outage")
}

// A process dies mid-fan-out: its recipients stay "sending". Some had reached the provider,
// some had not. The survivors ask the provider, and nobody is skipped or sent twice.
func TestCrashedSenderIsSettledExactlyOnce(t *testing.T) {
	f := newFixture(t, 100000, 100)
	ctx := context.Background()
	list := phones("+39347", 250)
	f.subscribe(t, "firenze", list...)
	a, _, err := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Prova", Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	// The dead process: it claimed batch 0, marked 40 recipients sending, handed 25 of them to
	// the provider, and died.
	f.interruptedClaim(t, a.ID, "dead-process")
	// Its heartbeat stops; a live process works the other batches meanwhile.
	f.sendAll(t, a.ID)
	c, _ := f.as.CountRecipients(ctx, a.ID)
	if c.Sending != 40 || c.Queued != 60 {
		t.Fatalf("batch 0 was taken from a live owner: %+v", c)
	}
	f.clock.Advance(400 * time.Millisecond) // StaleAfter is 300ms in the fixture
	if err := f.svc.SettleOrphans(ctx); err != nil {
		t.Fatal(err)
	}
	f.sendAll(t, a.ID) // the job the sweep enqueued for batch 0
	f.wantEachOnce(t, 250, "the dead process's batch was not finished")
	st, _ := f.svc.GetAlert(ctx, "firenze", a.ID)
	if st.Status != alertstore.AlertSent || st.Counts.Sent != 250 {
		t.Fatalf("%+v", st)
	}
}

// A timeout after the request was written: the provider may have the message. It is never
// resent blindly; the sweep asks the provider.
func TestUncertainSendIsAskedNotResent(t *testing.T) {
	f := newFixture(t, 100000, 100)
	ctx := context.Background()
	list := phones("+39347", 20)
	f.subscribe(t, "firenze", list...)
	var once sync.Once
	f.snd.acceptThenFail = func(to string) error {
		var err error
		if to == list[3] {
			once.Do(func() { err = errors.New("read tcp: i/o timeout") })
		}
		return err
	}
	a, _, _ := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Prova", Source: "api"})
	f.sendAll(t, a.ID)
	c, _ := f.as.CountRecipients(ctx, a.ID)
	if c.Sending != 1 || c.Sent != 19 {
		t.Fatalf("%+v", c)
	}
	if err := f.svc.SettleOrphans(ctx); err != nil {
		t.Fatal(err)
	}
	f.sendAll(t, a.ID)
	c, _ = f.as.CountRecipients(ctx, a.ID)
	if c.Sent != 20 || f.snd.countTo()[list[3]] != 1 {
		t.Fatalf("%+v, %d sends to the uncertain one", c, f.snd.countTo()[list[3]])
	}
	// Without a way to ask the provider, it would be recorded failed, not resent.
	f2 := newFixture(t, 100000, 100, func(o *Options) { o.Lookup = nil })
	f2.subscribe(t, "firenze", list[:2]...)
	f2.snd.acceptThenFail = func(to string) error { return errors.New("EOF") }
	a2, _, _ := f2.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Prova", Source: "api"})
	f2.sendAll(t, a2.ID)
	if err := f2.svc.SettleOrphans(ctx); err != nil {
		t.Fatal(err)
	}
	c, _ = f2.as.CountRecipients(ctx, a2.ID)
	if c.Failed != 2 || len(f2.snd.accepted) != 2 {
		t.Fatalf("%+v, %d sends", c, len(f2.snd.accepted))
	}
}

func TestCancelStopsWhatIsNotSent(t *testing.T) {
	f := newFixture(t, 200, 50)
	ctx := context.Background()
	f.subscribe(t, "firenze", phones("+39347", 400)...)
	a, _, _ := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Prova", Source: "api"})
	done := make(chan error, 1)
	go func() { done <- f.trySendAll(a.ID) }()
	waitFor(t, 10*time.Second, "the first 50 sends", func() bool { return f.snd.total() >= 50 })
	if _, err := f.svc.CancelAlert(ctx, "empoli", a.ID); !isCode(err, "not_found") {
		t.Fatalf("another comune cancelled: %v", err)
	}
	if _, err := f.svc.CancelAlert(ctx, "firenze", a.ID); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st, _ := f.svc.GetAlert(ctx, "firenze", a.ID)
	sent := len(f.snd.countTo())
	if st.Status != alertstore.AlertCancelled || st.Counts.Sent != sent || st.Counts.Cancelled != 400-sent || sent < 50 || sent > 350 {
		t.Fatalf("%+v; %d sent", st, sent)
	}
}

func TestPacingHoldsTheRate(t *testing.T) {
	const rate = 200
	f := newFixture(t, rate, 50)
	ctx := context.Background()
	f.subscribe(t, "firenze", phones("+39347", 600)...)
	var mu sync.Mutex
	var times []time.Time
	f.snd.refuse = func(string) error {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		return nil
	}
	a, _, _ := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Prova", Source: "api"})
	f.sendAll(t, a.ID)
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	// Over the steady part (skip the first and last 50), the rate is within 5%.
	span := times[550].Sub(times[50]).Seconds()
	got := 500 / span
	if got < rate*0.95 || got > rate*1.05 {
		t.Fatalf("rate %.1f/s, want %d ±5%%", got, rate)
	}
}
