package email

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/ingest"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// memUIDs is an in-memory UIDStore.
type memUIDs struct {
	mu    sync.Mutex
	state map[string][2]uint32
	saves int
}

func newMemUIDs() *memUIDs { return &memUIDs{state: map[string][2]uint32{}} }

func (m *memUIDs) IMAPState(_ context.Context, mailbox string) (uint32, uint32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.state[mailbox]
	return s[0], s[1], nil
}

func (m *memUIDs) SaveIMAPState(_ context.Context, mailbox string, v, u uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state[mailbox] = [2]uint32{v, u}
	m.saves++
	return nil
}

func (m *memUIDs) get(mailbox string) (uint32, uint32) {
	v, u, _ := m.IMAPState(context.Background(), mailbox)
	return v, u
}

// memIMAP is an in-process IMAP server with user urp/secret.
type memIMAP struct {
	addr string
	user *imapmemserver.User
}

func startIMAP(t *testing.T, folders ...string) *memIMAP {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("urp", "secret")
	for _, f := range append([]string{"INBOX"}, folders...) {
		if err := user.Create(f, nil); err != nil {
			t.Fatal(err)
		}
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapMove: {}, imap.CapUIDPlus: {}},
		InsecureAuth: true,
		Logger:       discardLogger{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &memIMAP{addr: ln.Addr().String(), user: user}
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// client is a second IMAP connection, the way another mail client or the MTA sees the box.
func (m *memIMAP) client(t *testing.T) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(m.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login("urp", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func appendMail(t *testing.T, c *imapclient.Client, folder, msg string) {
	t.Helper()
	cmd := c.Append(folder, int64(len(msg)), nil)
	if _, err := cmd.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// flags returns UID -> flags of a folder.
func flagsOf(t *testing.T, c *imapclient.Client, folder string) map[imap.UID][]imap.Flag {
	t.Helper()
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil && !strings.Contains(err.Error(), "No messages") {
		t.Fatal(err)
	}
	out := map[imap.UID][]imap.Flag{}
	for _, m := range msgs {
		out[m.UID] = m.Flags
	}
	return out
}

func hasFlag(fs []imap.Flag, f imap.Flag) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

func mailN(i int) string {
	return italianMail(fmt.Sprintf("m%d@example.it", i), fmt.Sprintf("cittadino%d@example.it", i), "urp@comune.fi.it",
		fmt.Sprintf("Segnalazione %d", i), fmt.Sprintf("Buongiorno, segnalo il problema numero %d in via dei Neri.", i))
}

func runPoller(t *testing.T, opts IMAPOptions) (*IMAPPoller, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	return runPollerCtx(t, ctx, cancel, opts)
}

// runPollerCtx runs a poller until ctx ends; the returned stop cancels it and waits for Run.
func runPollerCtx(t *testing.T, ctx context.Context, cancel context.CancelFunc, opts IMAPOptions) (*IMAPPoller, func()) {
	t.Helper()
	if opts.Comune == "" {
		opts.Comune = "firenze"
	}
	opts.Security, opts.Username, opts.Password = "none", "urp", "secret"
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	if opts.MinBackoff == 0 {
		opts.MinBackoff, opts.MaxBackoff = 20*time.Millisecond, 200*time.Millisecond
	}
	p, err := NewIMAPPoller(opts)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("poller did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return p, stop
}

func TestIMAPImportsFlagsAndRemembers(t *testing.T) {
	srv := startIMAP(t)
	other := srv.client(t)
	for i := 1; i <= 3; i++ {
		appendMail(t, other, "INBOX", mailN(i))
	}
	sink, uids := newMemSink(), newMemUIDs()
	// imapmemserver does not report, when IDLE starts, mail that arrived just before it (Dovecot
	// does): the refresh is the safety net for such servers.
	p, stop := runPoller(t, IMAPOptions{Address: srv.addr, Sink: sink, State: uids, IdleRefresh: time.Second})
	waitFor(t, 5*time.Second, "3 messages present before start", func() bool { return len(sink.stored()) == 3 })
	for i, in := range sink.stored() {
		if in.Comune != "firenze" || in.Channel != channels.Email || in.ExternalID != fmt.Sprintf("m%d@example.it", i+1) {
			t.Fatalf("message %d: %+v", i, in)
		}
	}
	// One arriving while the poller waits in IDLE.
	appendMail(t, other, "INBOX", mailN(4))
	waitFor(t, 5*time.Second, "the message arriving during IDLE", func() bool { return len(sink.stored()) == 4 })
	waitFor(t, 5*time.Second, "state saved", func() bool { _, u := uids.get(p.Key()); return u == 4 })
	stop()
	if v, u := uids.get(p.Key()); v == 0 || u != 4 {
		t.Fatalf("state: validity %d, last UID %d", v, u)
	}
	for uid, fs := range flagsOf(t, other, "INBOX") {
		if !hasFlag(fs, imap.FlagSeen) {
			t.Errorf("UID %d not flagged \\Seen after storing", uid)
		}
	}
	if st := p.Stats(); st.Sessions != 1 || st.Stored != 4 {
		t.Errorf("stats: %+v", st)
	}

	// A restart does not fetch anything again: the Sink is not even called.
	calls := sink.callCount()
	appendMail(t, other, "INBOX", mailN(5))
	_, stop2 := runPoller(t, IMAPOptions{Address: srv.addr, Sink: sink, State: uids})
	// Message 5 has the highest UID: an old message fetched again would reach the Sink before it.
	waitFor(t, 5*time.Second, "the new message after restart", func() bool { return len(sink.stored()) == 5 })
	stop2()
	if n := sink.callCount() - calls; n != 1 {
		t.Fatalf("restart: the Sink was called %d times, want 1 (only the new message)", n)
	}
}

func TestIMAPPollsWithoutIdle(t *testing.T) {
	srv := startIMAP(t)
	other := srv.client(t)
	sink := newMemSink()
	runPoller(t, IMAPOptions{Address: srv.addr, Sink: sink, State: newMemUIDs(), NoIdle: true, PollInterval: 100 * time.Millisecond})
	appendMail(t, other, "INBOX", mailN(1))
	waitFor(t, 5*time.Second, "a polled message", func() bool { return len(sink.stored()) == 1 })
	appendMail(t, other, "INBOX", mailN(2))
	waitFor(t, 5*time.Second, "a second polled message", func() bool { return len(sink.stored()) == 2 })
}

func TestIMAPStoreFailureLeavesMailUnseenAndRetries(t *testing.T) {
	srv := startIMAP(t)
	other := srv.client(t)
	for i := 1; i <= 3; i++ {
		appendMail(t, other, "INBOX", mailN(i))
	}
	sink, uids := newMemSink(), newMemUIDs()
	// The store fails on the second message until the test lets it through.
	var mu sync.Mutex
	broken := true
	sink.setHook(func(in channels.InboundMessage) error {
		mu.Lock()
		defer mu.Unlock()
		if broken && in.ExternalID == "m2@example.it" {
			return errStoreDown
		}
		return nil
	})
	p, _ := runPoller(t, IMAPOptions{Address: srv.addr, Sink: sink, State: uids, BatchSize: 10})
	waitFor(t, 5*time.Second, "a few failed attempts", func() bool { return p.Stats().Sessions >= 3 })
	// Only the first is stored, flagged and recorded; nothing after the failure is flagged.
	if got := sink.stored(); len(got) != 1 || got[0].ExternalID != "m1@example.it" {
		t.Fatalf("stored while broken: %+v", got)
	}
	if _, u := uids.get(p.Key()); u != 1 {
		t.Fatalf("last UID while broken: %d", u)
	}
	fl := flagsOf(t, other, "INBOX")
	if !hasFlag(fl[1], imap.FlagSeen) || hasFlag(fl[2], imap.FlagSeen) || hasFlag(fl[3], imap.FlagSeen) {
		t.Fatalf("flags while broken: %v", fl)
	}
	if !strings.Contains(p.Stats().LastError, errStoreDown.Error()) {
		t.Fatalf("last error: %q", p.Stats().LastError)
	}
	mu.Lock()
	broken = false
	mu.Unlock()
	waitFor(t, 5*time.Second, "recovery", func() bool { return len(sink.stored()) == 3 })
	waitFor(t, 5*time.Second, "all flagged", func() bool {
		for _, fs := range flagsOf(t, other, "INBOX") {
			if !hasFlag(fs, imap.FlagSeen) {
				return false
			}
		}
		return true
	})
}

func TestIMAPMovesToFolder(t *testing.T) {
	srv := startIMAP(t)
	other := srv.client(t)
	appendMail(t, other, "INBOX", mailN(1))
	appendMail(t, other, "INBOX", mailN(2))
	sink := newMemSink()
	runPoller(t, IMAPOptions{Address: srv.addr, Sink: sink, State: newMemUIDs(), MoveTo: "Archivio/Sportello"})
	waitFor(t, 5*time.Second, "2 stored", func() bool { return len(sink.stored()) == 2 })
	waitFor(t, 5*time.Second, "moved", func() bool {
		return len(flagsOf(t, other, "INBOX")) == 0 && len(flagsOf(t, other, "Archivio/Sportello")) == 2
	})
}

func TestIMAPUIDValidityChangeDoesNotReimport(t *testing.T) {
	srv := startIMAP(t, "Segnalazioni")
	other := srv.client(t)
	appendMail(t, other, "Segnalazioni", mailN(1))
	appendMail(t, other, "Segnalazioni", mailN(2))
	sink, uids := newMemSink(), newMemUIDs()
	p, stop := runPoller(t, IMAPOptions{Address: srv.addr, Mailbox: "Segnalazioni", Sink: sink, State: uids})
	waitFor(t, 5*time.Second, "2 stored", func() bool { _, u := uids.get(p.Key()); return u == 2 })
	stop()
	oldValidity, _ := uids.get(p.Key())

	// The mailbox is rebuilt (restored from a backup): same messages, new UIDVALIDITY, UIDs
	// from 1 again, and one new message.
	if err := other.Delete("Segnalazioni").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := other.Create("Segnalazioni", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		appendMail(t, other, "Segnalazioni", mailN(i))
	}
	calls := sink.callCount()
	runPoller(t, IMAPOptions{Address: srv.addr, Mailbox: "Segnalazioni", Sink: sink, State: uids})
	waitFor(t, 5*time.Second, "the mailbox read again", func() bool { return sink.callCount()-calls == 3 })
	if got := sink.stored(); len(got) != 3 {
		t.Fatalf("want 3 distinct messages (2 recognized as duplicates), got %d", len(got))
	}
	waitFor(t, 5*time.Second, "new state", func() bool { v, u := uids.get(p.Key()); return v != oldValidity && u == 3 })
}

func TestIMAPOversizeMessageImportsTheHeaderAndStaysUnread(t *testing.T) {
	srv := startIMAP(t)
	other := srv.client(t)
	big := italianMail("big@example.it", "geometra@example.it", "urp@comune.fi.it", "Planimetrie", strings.Repeat("Riga di allegato enorme.\r\n", 400))
	appendMail(t, other, "INBOX", big)
	appendMail(t, other, "INBOX", mailN(2))
	sink, uids := newMemSink(), newMemUIDs()
	p, _ := runPoller(t, IMAPOptions{Address: srv.addr, Sink: sink, State: uids, MaxMessageBytes: 4096})
	waitFor(t, 5*time.Second, "both", func() bool { return len(sink.stored()) == 2 })
	var bigIn channels.InboundMessage
	for _, in := range sink.stored() {
		if in.ExternalID == "big@example.it" {
			bigIn = in
		}
	}
	if bigIn.Subject != "Planimetrie" || bigIn.From != "geometra@example.it" || strings.Contains(bigIn.Body, "Riga di allegato") || !containsNote(bigIn.Notes, "oltre il limite") {
		t.Fatalf("oversize message: %+v", bigIn)
	}
	waitFor(t, 5*time.Second, "progress", func() bool { _, u := uids.get(p.Key()); return u == 2 })
	fl := flagsOf(t, other, "INBOX")
	if hasFlag(fl[1], imap.FlagSeen) || !hasFlag(fl[2], imap.FlagSeen) {
		t.Fatalf("the oversize message must stay unread for a person, the other be flagged: %v", fl)
	}
}

func TestIMAPReconnectsAfterServerLoss(t *testing.T) {
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("urp", "secret")
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	newServer := func() *imapserver.Server {
		return imapserver.New(&imapserver.Options{
			NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
				return mem.NewSession(), nil, nil
			},
			Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
			InsecureAuth: true, Logger: discardLogger{},
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	srv := newServer()
	go func() { _ = srv.Serve(ln) }()
	sink := newMemSink()
	p, _ := runPoller(t, IMAPOptions{Address: addr, Sink: sink, State: newMemUIDs()})
	waitFor(t, 5*time.Second, "connected", func() bool { return p.Stats().Connected })
	_ = srv.Close() // drops the listener and every connection
	waitFor(t, 5*time.Second, "disconnected", func() bool { return !p.Stats().Connected })

	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv2 := newServer()
	go func() { _ = srv2.Serve(ln2) }()
	t.Cleanup(func() { _ = srv2.Close() })
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if err := c.Login("urp", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	appendMail(t, c, "INBOX", mailN(1))
	waitFor(t, 10*time.Second, "the message after reconnecting", func() bool { return len(sink.stored()) == 1 })
	if st := p.Stats(); st.Sessions < 2 {
		t.Fatalf("stats after reconnect: %+v", st)
	}
}

func TestIMAPWrongPasswordBacksOff(t *testing.T) {
	srv := startIMAP(t)
	opts := IMAPOptions{Comune: "firenze", Address: srv.addr, Security: "none", Username: "urp", Password: "wrong",
		Sink: newMemSink(), State: newMemUIDs(), Logger: quietLogger(), MinBackoff: 50 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}
	p, err := NewIMAPPoller(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.Sessions != 0 || !strings.Contains(st.LastError, "login") {
		t.Fatalf("stats: %+v", st)
	}
}

func TestIMAPOptionsAreValidated(t *testing.T) {
	base := IMAPOptions{Comune: "firenze", Address: "127.0.0.1:993", Username: "u", Sink: newMemSink(), State: newMemUIDs()}
	for name, mod := range map[string]func(*IMAPOptions){
		"address":  func(o *IMAPOptions) { o.Address = "imap.example" },
		"security": func(o *IMAPOptions) { o.Security = "ssl" },
		"comune":   func(o *IMAPOptions) { o.Comune = "" },
		"user":     func(o *IMAPOptions) { o.Username = "" },
		"sink":     func(o *IMAPOptions) { o.Sink = nil },
		"state":    func(o *IMAPOptions) { o.State = nil },
		"move":     func(o *IMAPOptions) { o.MoveTo = "INBOX" },
		"backoff":  func(o *IMAPOptions) { o.MinBackoff, o.MaxBackoff = time.Minute, time.Second },
	} {
		o := base
		mod(&o)
		if _, err := NewIMAPPoller(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewIMAPPoller(base); err != nil {
		t.Fatal(err)
	}
}

// TestIMAPUIDValidityChangeWithTheRealStore: the Message-ID dedupe that makes a renumbered
// mailbox safe is the store's own, on both databases.
func TestIMAPUIDValidityChangeWithTheRealStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sink, err := ingest.New(ingest.Options{Store: s, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		srv := startIMAP(t, "Segnalazioni")
		other := srv.client(t)
		appendMail(t, other, "Segnalazioni", mailN(1))
		appendMail(t, other, "Segnalazioni", mailN(2))
		p, stop := runPoller(t, IMAPOptions{Address: srv.addr, Mailbox: "Segnalazioni", Sink: sink, State: s})
		waitFor(t, 10*time.Second, "2 stored", func() bool { _, u, _ := s.IMAPState(ctx, p.Key()); return u == 2 })
		stop()
		oldValidity, _, _ := s.IMAPState(ctx, p.Key())

		if err := other.Delete("Segnalazioni").Wait(); err != nil {
			t.Fatal(err)
		}
		if err := other.Create("Segnalazioni", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3; i++ {
			appendMail(t, other, "Segnalazioni", mailN(i))
		}
		runPoller(t, IMAPOptions{Address: srv.addr, Mailbox: "Segnalazioni", Sink: sink, State: s})
		waitFor(t, 10*time.Second, "the renumbered mailbox read", func() bool {
			v, u, _ := s.IMAPState(ctx, p.Key())
			return v != oldValidity && u == 3
		})
		if n, _ := s.CountContacts(ctx); n != 3 {
			t.Fatalf("contacts: %d, want 3 (two recognized by Message-ID)", n)
		}
		if n, _ := s.CountMessages(ctx, ""); n != 3 {
			t.Fatalf("messages: %d, want 3", n)
		}
	})
}

// TestIMAPShutdownFinishesTheMessageBeingStored: a message in the Sink when shutdown begins is
// still flagged and recorded, so the next start does not fetch it again.
func TestIMAPShutdownFinishesTheMessageBeingStored(t *testing.T) {
	srv := startIMAP(t)
	other := srv.client(t)
	appendMail(t, other, "INBOX", mailN(1))
	appendMail(t, other, "INBOX", mailN(2))
	sink, uids := newMemSink(), newMemUIDs()
	entered, release := make(chan struct{}, 1), make(chan struct{})
	sink.setHook(func(in channels.InboundMessage) error {
		if in.ExternalID == "m1@example.it" {
			entered <- struct{}{}
			<-release
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	p, stop := runPollerCtx(t, ctx, cancel, IMAPOptions{Address: srv.addr, Sink: sink, State: uids})
	<-entered
	cancel() // shutdown begins while the first message is in the Sink
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	close(release)
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	if got := sink.stored(); len(got) != 1 || got[0].ExternalID != "m1@example.it" {
		t.Fatalf("stored: %+v (the second must wait for the next start)", got)
	}
	if _, u := uids.get(p.Key()); u != 1 {
		t.Fatalf("last UID after shutdown: %d, want 1", u)
	}
	fl := flagsOf(t, other, "INBOX")
	if !hasFlag(fl[1], imap.FlagSeen) || hasFlag(fl[2], imap.FlagSeen) {
		t.Fatalf("flags after shutdown: %v", fl)
	}
}
