package email

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sportello/sportello/channels"
)

var testRecipients = map[string]string{"urp@comune.fi.it": "firenze", "urp@comune.empoli.fi.it": "empoli"}

func startSMTP(t *testing.T, opts SMTPOptions) (*SMTPServer, string) {
	t.Helper()
	opts.Listen = "127.0.0.1:0"
	if opts.Recipients == nil {
		opts.Recipients = testRecipients
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	s, err := NewSMTPServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ListenAndServe: %v", err)
		}
	})
	return s, s.Addr()
}

// send delivers one message with go-smtp's client and returns the server's verdict.
func send(t *testing.T, addr, from string, to []string, msg string) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		return err // not t.Fatal: send also runs off the test goroutine
	}
	defer func() { _ = c.Close() }()
	return c.SendMail(from, to, strings.NewReader(msg))
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func TestSMTPAcceptsOnlyTheComuniAddresses(t *testing.T) {
	sink := newMemSink()
	_, addr := startSMTP(t, SMTPOptions{Sink: sink})

	msg := italianMail("abc1@example.it", "mario.rossi@example.it", "urp@comune.empoli.fi.it", "Buca in via Roma",
		"Buongiorno, in via Roma c'è una buca pericolosa.")
	if err := send(t, addr, "Mario.Rossi@Example.it", []string{"URP@Comune.Empoli.FI.it"}, msg); err != nil {
		t.Fatalf("accepted recipient: %v", err)
	}
	got := sink.stored()
	if len(got) != 1 {
		t.Fatalf("want 1 stored, got %d", len(got))
	}
	in := got[0]
	if in.Channel != channels.Email || in.Comune != "empoli" || in.To != "urp@comune.empoli.fi.it" || in.From != "mario.rossi@example.it" ||
		in.ExternalID != "abc1@example.it" || in.Subject != "Buca in via Roma" || !strings.Contains(in.Body, "buca pericolosa") {
		t.Fatalf("stored: %+v", in)
	}
	if time.Since(in.ReceivedAt) > time.Minute {
		t.Fatalf("received_at is the arrival time, got %v", in.ReceivedAt)
	}

	// Anything else is refused at RCPT: never an open relay.
	for _, rcpt := range []string{"someone@gmail.com", "urp@comune.fi.it.evil.com", "urp@comune.fi.it@evil.com", "pm@comune.fi.it"} {
		err := send(t, addr, "spam@example.com", []string{rcpt}, msg)
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 1}) {
			t.Errorf("%s: want 550 5.7.1, got %v", rcpt, err)
		}
	}
	// A refused recipient beside an accepted one: the accepted one gets the message, once.
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if err := c.Mail("anna@example.it", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("other@example.org", nil); smtpCode(err) != 550 {
		t.Fatalf("relay attempt: %v", err)
	}
	if err := c.Rcpt("urp@comune.fi.it", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("urp@comune.empoli.fi.it", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(italianMail("abc2@example.it", "anna@example.it", "urp@comune.fi.it", "ZTL", "Permesso ZTL scaduto"))); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got = sink.stored()
	if len(got) != 2 || got[1].Comune != "firenze" || got[1].To != "urp@comune.fi.it" || !containsNote(got[1].Notes, "urp@comune.empoli.fi.it") {
		t.Fatalf("second: %d %+v", len(got), got[len(got)-1])
	}
}

func containsNote(notes []string, s string) bool {
	for _, n := range notes {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

func TestSMTPAnswers250OnlyAfterTheSinkReturned(t *testing.T) {
	sink := newMemSink()
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	sink.setHook(func(channels.InboundMessage) error {
		entered <- struct{}{}
		<-release
		return nil
	})
	_, addr := startSMTP(t, SMTPOptions{Sink: sink})
	answered := make(chan error, 1)
	go func() {
		answered <- send(t, addr, "a@example.it", []string{"urp@comune.fi.it"}, italianMail("slow@example.it", "a@example.it", "urp@comune.fi.it", "x", "y"))
	}()
	<-entered
	select {
	case err := <-answered:
		t.Fatalf("answered before the message was stored: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	if len(sink.stored()) != 1 {
		t.Fatal("not stored")
	}
}

// refusal is a store error about the message itself (what ingest reports as permanent).
type refusal struct{}

func (refusal) Error() string   { return "the database refuses this text" }
func (refusal) Permanent() bool { return true }

// A message the store refuses for what it holds would be refused at every retry: the sender
// is told at once with a permanent 554, so its server bounces instead of retrying for days.
func TestSMTPMessageTheStoreRefusesIs554(t *testing.T) {
	sink := newMemSink()
	sink.setHook(func(channels.InboundMessage) error { return fmt.Errorf("storing: %w", refusal{}) })
	_, addr := startSMTP(t, SMTPOptions{Sink: sink})
	err := send(t, addr, "a@example.it", []string{"urp@comune.fi.it"}, italianMail("refused@example.it", "a@example.it", "urp@comune.fi.it", "x", "y"))
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 554 || se.Temporary() {
		t.Fatalf("want a permanent 554, got %v", err)
	}
}

func TestSMTPStoreFailureIs451(t *testing.T) {
	sink := newMemSink()
	sink.setHook(func(channels.InboundMessage) error { return errStoreDown })
	_, addr := startSMTP(t, SMTPOptions{Sink: sink})
	msg := italianMail("retry@example.it", "a@example.it", "urp@comune.fi.it", "x", "y")
	err := send(t, addr, "a@example.it", []string{"urp@comune.fi.it"}, msg)
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 451 || se.EnhancedCode != (smtp.EnhancedCode{4, 3, 0}) || !se.Temporary() {
		t.Fatalf("want 451 4.3.0, got %v", err)
	}
	// The client retries once the store is back; the message is stored once.
	sink.setHook(nil)
	if err := send(t, addr, "a@example.it", []string{"urp@comune.fi.it"}, msg); err != nil {
		t.Fatal(err)
	}
	if err := send(t, addr, "a@example.it", []string{"urp@comune.fi.it"}, msg); err != nil {
		t.Fatalf("a duplicate is still a 250: %v", err)
	}
	if n := len(sink.stored()); n != 1 {
		t.Fatalf("stored %d", n)
	}
}

func TestSMTPOversizeIs552(t *testing.T) {
	sink := newMemSink()
	_, addr := startSMTP(t, SMTPOptions{Sink: sink, MaxMessageBytes: 4096})
	big := italianMail("big@example.it", "a@example.it", "urp@comune.fi.it", "allegato", strings.Repeat("Testo lungo della segnalazione.\r\n", 400))
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	err = c.SendMail("a@example.it", []string{"urp@comune.fi.it"}, strings.NewReader(big))
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 552 {
		t.Fatalf("want 552, got %v", err)
	}
	// The session goes on: a small message on the same connection is accepted.
	if err := c.SendMail("a@example.it", []string{"urp@comune.fi.it"},
		strings.NewReader(italianMail("small@example.it", "a@example.it", "urp@comune.fi.it", "x", "breve"))); err != nil {
		t.Fatalf("after 552: %v", err)
	}
	got := sink.stored()
	if len(got) != 1 || got[0].ExternalID != "small@example.it" {
		t.Fatalf("stored: %+v", got)
	}
}

func TestSMTPLimits(t *testing.T) {
	sink := newMemSink()
	_, addr := startSMTP(t, SMTPOptions{Sink: sink, MaxRecipients: 2, MaxLineLength: 1000, MaxConnections: 2})

	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if err := c.Mail("a@example.it", nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := c.Rcpt("urp@comune.fi.it", nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Rcpt("urp@comune.fi.it", nil); smtpCode(err) != 452 {
		t.Fatalf("third recipient: want 452, got %v", err)
	}
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}

	// A second connection is fine, a third is turned away with 421.
	c2, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.Noop(); err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	if !strings.HasPrefix(line, "421 ") {
		t.Fatalf("connection over the limit: %q", line)
	}
	// Closing one frees its slot.
	_ = c2.Close()
	waitFor(t, 5*time.Second, "a free slot", func() bool {
		c3, err := smtp.Dial(addr)
		if err != nil {
			return false
		}
		defer func() { _ = c3.Close() }()
		return c3.Noop() == nil
	})

	// A line over the limit inside DATA is refused, and nothing is stored.
	long := italianMail("long@example.it", "a@example.it", "urp@comune.fi.it", "x", strings.Repeat("a", 3000))
	err = c.SendMail("a@example.it", []string{"urp@comune.fi.it"}, strings.NewReader(long))
	if code := smtpCode(err); code != 500 {
		t.Fatalf("long line: want 500, got %v", err)
	}
	if len(sink.stored()) != 0 {
		t.Fatal("a refused message was stored")
	}
}

func TestSMTPIdleTimeout(t *testing.T) {
	_, addr := startSMTP(t, SMTPOptions{Sink: newMemSink(), ReadTimeout: 200 * time.Millisecond})
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	greeting, _ := r.ReadString('\n')
	bye, _ := r.ReadString('\n')
	if !strings.HasPrefix(greeting, "220 ") || !strings.HasPrefix(bye, "421 ") {
		t.Fatalf("greeting %q, then %q", greeting, bye)
	}
}

func TestSMTPUnreadableInput(t *testing.T) {
	sink := newMemSink()
	_, addr := startSMTP(t, SMTPOptions{Sink: sink})
	// Text with no header at all is still mail from someone: kept, raw, with a note.
	text := "ciao, vi scrivo per la multa che ho ricevuto ieri.\r\nNon so a chi rivolgermi.\r\n"
	if err := send(t, addr, "Nonna@Example.it", []string{"urp@comune.fi.it"}, text); err != nil {
		t.Fatalf("headerless text: %v", err)
	}
	got := sink.stored()
	if len(got) != 1 {
		t.Fatalf("stored %d", len(got))
	}
	in := got[0]
	if in.From != "nonna@example.it" || in.Comune != "firenze" || !strings.Contains(in.Body, "multa che ho ricevuto") ||
		len(in.Notes) == 0 || !strings.HasPrefix(in.ExternalID, "sha256-") || len(in.Attachments) != 1 || string(in.Attachments[0].Data) != text {
		t.Fatalf("raw message: %+v", in)
	}
	// Binary garbage is not a message: 554.
	err := send(t, addr, "x@example.it", []string{"urp@comune.fi.it"}, "\x00\x01\x02\x03binary\x00\x00")
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 554 {
		t.Fatalf("binary: want 554, got %v", err)
	}
	// A bounce (empty reverse path) is marked so that nothing answers it.
	if err := send(t, addr, "", []string{"urp@comune.fi.it"}, italianMail("bounce@example.it", "mailer-daemon@example.it", "urp@comune.fi.it", "Undelivered", "x")); err != nil {
		t.Fatal(err)
	}
	got = sink.stored()
	if len(got) != 2 || !got[1].AutoReply {
		t.Fatalf("bounce: %+v", got[len(got)-1])
	}
}

func TestSMTPParserPanicKeepsTheMail(t *testing.T) {
	sink := newMemSink()
	panicky := func(r io.Reader) (channels.InboundMessage, error) { panic("boom") }
	_, addr := startSMTP(t, SMTPOptions{Sink: sink, Parse: func(r io.Reader) (channels.InboundMessage, error) { return panicky(r) }})
	msg := italianMail("p@example.it", "a@example.it", "urp@comune.fi.it", "x", "testo importante")
	if err := send(t, addr, "a@example.it", []string{"urp@comune.fi.it"}, msg); err != nil {
		t.Fatal(err)
	}
	got := sink.stored()
	if len(got) != 1 || !strings.Contains(got[0].Body, "testo importante") || !containsNote(got[0].Notes, "boom") {
		t.Fatalf("after a parser panic: %+v", got)
	}
}

func TestSMTPStartTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	sink := newMemSink()
	_, addr := startSMTP(t, SMTPOptions{Sink: sink, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}})
	c, err := smtp.DialStartTLS(addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if _, ok := c.TLSConnectionState(); !ok {
		t.Fatal("not encrypted")
	}
	if err := c.SendMail("a@example.it", []string{"urp@comune.fi.it"}, strings.NewReader(italianMail("tls@example.it", "a@example.it", "urp@comune.fi.it", "x", "cifrato"))); err != nil {
		t.Fatal(err)
	}
	if len(sink.stored()) != 1 {
		t.Fatal("not stored")
	}
	// Without a certificate STARTTLS is not offered.
	_, plainAddr := startSMTP(t, SMTPOptions{Sink: newMemSink()})
	pc, err := smtp.Dial(plainAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pc.Close() }()
	if err := pc.Hello("client.example"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := pc.Extension("STARTTLS"); ok {
		t.Fatal("STARTTLS offered without a certificate")
	}
}

func TestSMTPCloseDrainsMessagesBeingStored(t *testing.T) {
	sink := newMemSink()
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	sink.setHook(func(channels.InboundMessage) error {
		entered <- struct{}{}
		<-release
		return nil
	})
	s, err := NewSMTPServer(SMTPOptions{Listen: "127.0.0.1:0", Recipients: testRecipients, Sink: sink, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- s.ListenAndServe(ctx) }()
	answered := make(chan error, 1)
	go func() {
		answered <- send(t, s.Addr(), "a@example.it", []string{"urp@comune.fi.it"}, italianMail("drain@example.it", "a@example.it", "urp@comune.fi.it", "x", "y"))
	}()
	<-entered
	cancel()
	// Release the message in the Sink only once shutdown has begun (no new message is taken).
	waitFor(t, 10*time.Second, "shutdown to begin", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.closing
	})
	close(release)
	if err := <-answered; err != nil {
		t.Fatalf("a message being stored at shutdown must still get its 250: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Fatal("still listening after shutdown")
	}
}

func TestSMTPOptionsAreValidated(t *testing.T) {
	for name, o := range map[string]SMTPOptions{
		"no sink":          {Recipients: testRecipients},
		"no recipients":    {Sink: newMemSink()},
		"upper-case rcpt":  {Sink: newMemSink(), Recipients: map[string]string{"URP@x.it": "firenze"}},
		"no comune":        {Sink: newMemSink(), Recipients: map[string]string{"urp@x.it": ""}},
		"tiny size":        {Sink: newMemSink(), Recipients: testRecipients, MaxMessageBytes: 10},
		"short lines":      {Sink: newMemSink(), Recipients: testRecipients, MaxLineLength: 80},
		"negative timeout": {Sink: newMemSink(), Recipients: testRecipients, ReadTimeout: -1},
	} {
		if _, err := NewSMTPServer(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

type addrConn struct {
	net.Conn
	addr net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.addr }

// An IPv6 client holds a whole /64: its addresses share one count, so a /64 cannot take every
// slot by rotating addresses.
func TestRemoteIPCountsIPv6ByPrefix(t *testing.T) {
	at := func(ip string) string {
		return remoteIP(addrConn{addr: &net.TCPAddr{IP: net.ParseIP(ip), Port: 2525}})
	}
	if a, b := at("2001:db8:1:2::10"), at("2001:db8:1:2:ffff::1"); a != b {
		t.Fatalf("one /64 counted as two clients: %s and %s", a, b)
	}
	if a, b := at("2001:db8:1:2::10"), at("2001:db8:1:3::10"); a == b {
		t.Fatalf("two /64s counted as one client: %s", a)
	}
	if a, b := at("192.0.2.1"), at("192.0.2.2"); a == b || a != "192.0.2.1" {
		t.Fatalf("IPv4 addresses: %s and %s", a, b)
	}
}

// A message whose bytes keep coming is delivered however long it takes, within the session's
// lifetime: go-smtp sets one read deadline for a whole DATA, so a sender slower than its size
// over ReadTimeout could never deliver a large mail.
func TestSMTPSlowMessageIsNotCutByTheReadTimeout(t *testing.T) {
	sink := newMemSink()
	_, addr := startSMTP(t, SMTPOptions{Sink: sink, ReadTimeout: 300 * time.Millisecond})
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(conn)
	expect := func(code string) {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			if err != nil || !strings.HasPrefix(line, code) {
				t.Fatalf("want %s, got %q %v", code, line, err)
			}
			if len(line) < 4 || line[3] != '-' {
				return
			}
		}
	}
	say := func(s string) {
		t.Helper()
		if _, err := io.WriteString(conn, s); err != nil {
			t.Fatal(err)
		}
	}
	expect("220")
	say("EHLO slow.example.it\r\n")
	expect("250")
	say("MAIL FROM:<slow@example.it>\r\n")
	expect("250")
	say("RCPT TO:<urp@comune.fi.it>\r\n")
	expect("250")
	say("DATA\r\n")
	expect("354")
	msg := italianMail("slow@example.it", "slow@example.it", "urp@comune.fi.it", "Lenta", strings.Repeat("una riga di testo che arriva piano\r\n", 60))
	msg = strings.ReplaceAll(msg, "\r\n", "\n")
	msg = strings.ReplaceAll(msg, "\n", "\r\n")
	lines := strings.SplitAfter(msg, "\r\n")
	start := time.Now()
	for i, l := range lines { // about 1.2 s in all: four times the read timeout
		say(l)
		if i%5 == 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	say(".\r\n")
	expect("250")
	if time.Since(start) < 3*300*time.Millisecond {
		t.Fatalf("the message took %v: not slow enough to prove anything", time.Since(start))
	}
	if len(sink.stored()) != 1 {
		t.Fatalf("stored %d", len(sink.stored()))
	}
}
