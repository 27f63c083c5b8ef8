package alerts

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/jobs"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/store/storetest"
)

const testYAML = `
data_dir: ./unused
shared_numbers: ["+39055055"]
twilio:
  max_messages_per_second: %d
alerts:
  batch_size: %d
  quiet_hours: "off"
comuni:
  - id: firenze
    name: Comune di Firenze
    aliases: [fi]
    phone_numbers: ["+390552768000"]
    topics: [traffico, scuole]
    alert_templates:
      it: "{{.ComuneShort}}: {{.Message}}"
      en: "{{.ComuneShort}} (EN): {{.Message}}"
  - id: sesto-fiorentino
    name: Comune di Sesto Fiorentino
    aliases: [sesto]
    phone_numbers: ["+39055449601"]
    topics: [traffico]
  - id: empoli
    name: Comune di Empoli
    phone_numbers: ["+39057175761"]
    topics: [traffico]
`

func testConfig(t testing.TB, rate, batch int) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(fmt.Sprintf(testYAML, rate, batch)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// fakeSender is an SMS provider: it records what it accepted and can refuse.
type fakeSender struct {
	mu       sync.Mutex
	accepted []channels.OutboundMessage
	sids     map[string]string // sid -> To
	hooks    map[string]string // sid -> the message's status callback address
	n        int
	// refuse decides a refusal per number (nil: accept).
	refuse func(to string) error
	// acceptThenFail accepts the message but answers with this error (a timeout after the write).
	acceptThenFail func(to string) error
	delay          time.Duration
}

func (f *fakeSender) Send(ctx context.Context, m channels.OutboundMessage) (channels.SendResult, error) {
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse != nil {
		if err := f.refuse(m.To); err != nil {
			return channels.SendResult{}, err
		}
	}
	f.n++
	sid := fmt.Sprintf("SM%032d", f.n)
	f.accepted = append(f.accepted, m)
	if f.sids == nil {
		f.sids = map[string]string{}
	}
	f.sids[sid] = m.To
	if f.hooks == nil {
		f.hooks = map[string]string{}
	}
	f.hooks[sid] = m.StatusCallback
	if f.acceptThenFail != nil {
		if err := f.acceptThenFail(m.To); err != nil {
			return channels.SendResult{}, err
		}
	}
	return channels.SendResult{ExternalID: sid, Status: "queued"}, nil
}

// callback is the status callback the provider would post about the message sid, as the
// Twilio adapter hands it on (the query of the message's callback address included).
func (f *fakeSender) callback(t *testing.T, sid, status string) channels.DeliveryUpdate {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	u := channels.DeliveryUpdate{Channel: channels.SMS, ExternalID: sid, Status: status}
	if hook, ok := f.hooks[sid]; ok {
		parsed, err := url.Parse(hook)
		if err != nil {
			t.Fatal(err)
		}
		u.CallbackQuery = parsed.RawQuery
	}
	return u
}

// FindSent makes the fake its own Lookup.
func (f *fakeSender) FindSent(ctx context.Context, to, body string, since time.Time) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for sid, t := range f.sids {
		if t == to {
			out = append(out, sid)
		}
	}
	return out, nil
}

func (f *fakeSender) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.accepted)
}

func (f *fakeSender) countTo() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]int{}
	for _, a := range f.accepted {
		m[a.To]++
	}
	return m
}

type fixture struct {
	s    *store.Store
	as   *alertstore.Store // the alerts tables, over s
	svc  *Service
	snd  *fakeSender
	cfg  *config.Config
	jobs *jobs.Client
	// clock is the store's and (unless an option sets another) the service's: a test advances
	// it past a heartbeat's age or a lease instead of sleeping.
	clock *storetest.Clock
}

func newFixture(t testing.TB, rate, batch int, opts ...func(*Options)) *fixture {
	t.Helper()
	return newFixtureOn(t, store.SQLite, rate, batch, opts...)
}

// newFixtureOn is newFixture on the given database.
func newFixtureOn(t testing.TB, d store.Dialect, rate, batch int, opts ...func(*Options)) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := &storetest.Clock{}
	s := storetest.OpenWith(t, d, store.Options{Now: clock.Now})
	if err := jobs.Migrate(ctx, s); err != nil {
		t.Fatal(err)
	}
	jc, closeJobs, err := jobs.New(ctx, s, nil, jobs.Options{InsertOnly: true, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeJobs)
	f := &fixture{s: s, as: alertstore.New(s), snd: &fakeSender{}, cfg: testConfig(t, rate, batch), jobs: jc, clock: clock}
	o := Options{Store: s, Config: f.cfg, Sender: func() channels.Sender { return f.snd }, Jobs: func() *jobs.Client { return jc },
		Lookup: f.snd, Logger: quietLog(), StaleAfter: 300 * time.Millisecond, SettleAfter: time.Millisecond, StatusCallback: "https://x.test/webhooks/twilio/status",
		Now: clock.Now}
	for _, fn := range opts {
		fn(&o)
	}
	f.svc, err = New(o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func (f *fixture) subscribe(t testing.TB, comune string, phones ...string) {
	t.Helper()
	rows := make([]alertstore.ImportRow, len(phones))
	for i, p := range phones {
		rows[i] = alertstore.ImportRow{Phone: p}
	}
	if _, err := f.as.ImportSubscribers(context.Background(), comune, rows, nil, alertstore.ConsentActor{Via: alertstore.ViaImport, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
}

// sendAll works every batch of an alert with workers in parallel, as River would.
func (f *fixture) sendAll(t testing.TB, alertID string) {
	t.Helper()
	if err := f.trySendAll(alertID); err != nil {
		t.Fatal(err)
	}
}

// trySendAll writes the rest of the alert's audience and works every unfinished batch, as
// River's workers would, and returns the first error: callable off the test goroutine, where
// t.Fatal must not be.
func (f *fixture) trySendAll(alertID string) error {
	if err := f.svc.prepare(context.Background(), alertID); err != nil {
		return err
	}
	rows, err := f.s.Query(context.Background(), "SELECT batch FROM alert_batches WHERE alert_id = ? AND status <> 'done'", alertID)
	batches, err := store.Collect(rows, err, func(r interface{ Scan(...any) error }) (b int, err error) { return b, r.Scan(&b) })
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(batches))
	for _, b := range batches {
		wg.Add(1)
		go func(b int) {
			defer wg.Done()
			errs <- f.svc.SendBatch(context.Background(), alertID, b)
		}(b)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// interruptedClaim plays a process (owner, heartbeat written) that claimed batch 0 of the
// alert, marked its first 40 recipients "sending", handed 25 of them to the provider and then
// stopped, dead or stuck: what is left to the sweep. It returns that worker's lease.
func (f *fixture) interruptedClaim(t testing.TB, alertID, owner string) alertstore.BatchLease {
	t.Helper()
	ctx := context.Background()
	if err := f.as.Heartbeat(ctx, owner); err != nil {
		t.Fatal(err)
	}
	lease, ok, err := f.as.ClaimAlertBatch(ctx, alertID, 0, owner, f.svc.liveness())
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	seqs, err := f.as.QueuedInBatch(ctx, alertID, 0, 40)
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := f.as.ClaimRecipients(ctx, alertID, 0, seqs, lease)
	if err != nil || len(claimed) != 40 {
		t.Fatal(len(claimed), err)
	}
	for _, r := range claimed[:25] {
		if _, err := f.snd.Send(ctx, channels.OutboundMessage{To: r.Phone, Body: "Firenze: Prova"}); err != nil {
			t.Fatal(err)
		}
	}
	return lease
}

// wantEachOnce fails the test unless exactly want numbers got the alert, each of them once;
// short says what a shortfall means in the test's story.
func (f *fixture) wantEachOnce(t testing.TB, want int, short string) {
	t.Helper()
	got := f.snd.countTo()
	if len(got) != want {
		t.Fatalf("%d of %d numbers got the alert: %s", len(got), want, short)
	}
	for to, n := range got {
		if n != 1 {
			t.Fatalf("%s got it %d times", to, n)
		}
	}
}

func phones(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%06d", prefix, i)
	}
	return out
}

func sms(sid, from, to, body string) channels.InboundMessage {
	return channels.InboundMessage{Channel: channels.SMS, ExternalID: sid, From: from, To: to, Body: body}
}
