package desk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/ingest"
	"github.com/sportello/sportello/jobs"
	"github.com/sportello/sportello/store"
)

const testYAML = `
public_url: https://sportello.test
timezone: Europe/Rome
email:
  from: "Linea Comune <noreply@055055.example>"
twilio:
  from: "+390550550"
business_hours:
  days: [mon, tue, wed, thu, fri, sat]
  open: "08:00"
  close: "20:00"
shared_numbers: ["+39055055"]
comuni:
  - id: firenze
    name: Comune di Firenze
    patron: {day: "06-24", name: "San Giovanni Battista"}
    phone_numbers: ["+390552768000"]
    email_addresses: ["urp@comune.fi.it"]
    offices:
      - id: polizia-municipale
        name: Polizia Municipale
        email: pm@comune.fi.it
        phone: "+390553283333"
      - id: senza-telefono
        name: Ufficio senza telefono
        email: x@comune.fi.it
  - id: empoli
    name: Comune di Empoli
    phone_numbers: ["+39057175761"]
    email_addresses: ["urp@comune.empoli.fi.it"]
    offices:
      - id: polizia-municipale
        name: Polizia Municipale
        email: pm@comune.empoli.fi.it
        phone: "+39057175791"
`

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fakeSender records what it sends and fails as told.
type fakeSender struct {
	mu   sync.Mutex
	sent []channels.OutboundMessage
	// fail returns the error for the next attempt (nil = accept).
	fail func(n int) error
	n    int
}

func (f *fakeSender) Send(_ context.Context, m channels.OutboundMessage) (channels.SendResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if f.fail != nil {
		if err := f.fail(f.n); err != nil {
			return channels.SendResult{}, err
		}
	}
	f.sent = append(f.sent, m)
	return channels.SendResult{ExternalID: fmt.Sprintf("EXT%d", f.n), Status: "queued"}, nil
}

func (f *fakeSender) Sent() []channels.OutboundMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]channels.OutboundMessage(nil), f.sent...)
}

func (f *fakeSender) Attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

type fixture struct {
	t       *testing.T
	s       *store.Store
	d       *desk.Desk
	in      *ingest.Service
	cfg     *config.Config
	clock   *clock
	hub     *events.Hub
	sms     *fakeSender
	email   *fakeSender
	fax     *fakeSender
	jc      *jobs.Client
	senders map[channels.Kind]channels.Sender
}

// Wednesday 25 November 2026, 10:00 in Rome: open.
var openTime = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// Wednesday 25 November 2026, 22:00 in Rome: closed.
var closedTime = time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)

// newFixture builds a desk on s with fake senders; opts adjust its options.
func newFixture(t *testing.T, s *store.Store, opts ...func(*desk.Options)) *fixture {
	t.Helper()
	cfg, err := config.Parse([]byte(testYAML))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, s: s, cfg: cfg, clock: &clock{t: openTime}, hub: events.NewHub(),
		sms: &fakeSender{}, email: &fakeSender{}, fax: &fakeSender{}}
	f.senders = map[channels.Kind]channels.Sender{channels.SMS: f.sms, channels.Email: f.email, channels.Fax: f.fax}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := desk.Options{Store: s, Config: cfg, Jobs: func() *jobs.Client { return f.jc }, Events: f.hub,
		Senders: f.senders, Logger: log, Now: f.clock.Now, SLAInterval: 50 * time.Millisecond}
	for _, opt := range opts {
		opt(&o)
	}
	f.d, err = desk.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := jobs.Migrate(ctx, s); err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	f.d.RegisterWorkers(workers)
	f.jc, _, err = jobs.New(ctx, s, workers, jobs.Options{MaxWorkers: 8, FetchCooldown: 5 * time.Millisecond, FetchPoll: 20 * time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	if err := f.jc.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, c2 := context.WithTimeout(context.Background(), 10*time.Second)
		defer c2()
		cancel()
		_ = f.jc.Stop(stopCtx)
	})
	f.in, err = ingest.New(ingest.Options{Store: s, Events: f.hub, Decider: f.d, Followers: []ingest.Follower{f.d},
		InTx: []ingest.InTx{f.d.AutoReplyEmailTx}, Logger: log, InlineFollowers: true})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) user(username, role string, comuni ...string) store.User {
	f.t.Helper()
	u, err := f.s.CreateUser(context.Background(), store.User{Username: username, Role: role, PasswordHash: "x", Comuni: comuni})
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

var seq int
var seqMu sync.Mutex

func nextSid(prefix string) string {
	seqMu.Lock()
	defer seqMu.Unlock()
	seq++
	return fmt.Sprintf("%s%06d", prefix, seq)
}

func (f *fixture) text(from, to, body string) channels.Receipt {
	f.t.Helper()
	r, err := f.in.Receive(context.Background(), channels.InboundMessage{Channel: channels.SMS, ExternalID: nextSid("SM"),
		From: from, To: to, Body: body, ReceivedAt: f.clock.Now()})
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *fixture) contact(id string) channels.Contact {
	f.t.Helper()
	c, err := f.s.GetContact(context.Background(), id, store.Scope{})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// waitFor polls cond until it holds or 30 s pass (River retries wait for its scheduler).
func (f *fixture) waitFor(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// jobsSettled reports whether no background job is waiting to run or retry: what a test checks
// instead of sleeping to see that nothing more happens.
func (f *fixture) jobsSettled() bool {
	f.t.Helper()
	var pending int
	if err := f.s.QueryRow(context.Background(),
		"SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'discarded', 'cancelled')").Scan(&pending); err != nil {
		f.t.Fatal(err)
	}
	return pending == 0
}

func (f *fixture) lastOutbound(contactID string) channels.Message {
	f.t.Helper()
	msgs, err := f.s.Messages(context.Background(), contactID)
	if err != nil {
		f.t.Fatal(err)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Direction == channels.Outbound {
			return msgs[i]
		}
	}
	f.t.Fatalf("contact %s has no outbound message", contactID)
	return channels.Message{}
}

func deskCode(t *testing.T, err error) (int, string) {
	t.Helper()
	var de *desk.Error
	if !errors.As(err, &de) {
		t.Fatalf("want a *desk.Error, got %v", err)
	}
	return de.Status, de.Code
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
