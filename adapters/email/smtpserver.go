package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/clientaddr"
	"github.com/sportello/sportello/metrics"
)

// SMTPOptions configure the inbound SMTP server. Zero limits take the defaults below.
type SMTPOptions struct {
	// Listen is host:port; Serve may be given a listener instead.
	Listen string
	// Domain is the name the server greets with.
	Domain          string
	MaxMessageBytes int64
	MaxRecipients   int
	MaxLineLength   int
	// MaxConnections bounds open sessions; more are answered 421 and closed.
	MaxConnections int
	// MaxConnectionsPerIP bounds the sessions of one client address, so that one client
	// cannot take every slot of MaxConnections; more are answered 421 and closed.
	MaxConnectionsPerIP int
	// ReadTimeout bounds the wait for each command line, and within a message the wait for
	// its next bytes (go-smtp alone would bound the whole DATA by it).
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// IdleTimeout closes a session that made no progress for this long: only MAIL, RCPT and
	// the message's bytes count, so a client sending NOOP (or RSET, HELO, VRFY) to hold a slot
	// is still idle.
	IdleTimeout time.Duration
	// SessionLifetime closes a session this long after it was opened, whatever it does; a
	// message being stored still gets its answer.
	SessionLifetime time.Duration
	// TLSConfig, when set, enables STARTTLS.
	TLSConfig *tls.Config
	// Recipients maps each accepted address (lower-case) to its comune; anything else is
	// refused, so the server is never an open relay.
	Recipients map[string]string
	Sink       channels.Sink
	// Parse reads a raw message (DefaultParse when nil).
	Parse ParseFunc
	// Senders checks SPF, DKIM and DMARC of each message (nil: not checked, so no message
	// gets an automatic answer).
	Senders *SenderChecker
	// StoreTimeout bounds how long one message waits for the Sink before the client is told
	// to retry (451).
	StoreTimeout time.Duration
	// DrainTimeout bounds how long shutdown waits for messages being stored.
	DrainTimeout time.Duration
	Logger       *slog.Logger
	Metrics      *metrics.Metrics
}

// Defaults of SMTPOptions.
const (
	DefaultMaxMessageBytes = 10 << 20
	DefaultMaxRecipients   = 50
	DefaultMaxLineLength   = 4000
	DefaultMaxConnections  = 200
	// DefaultMaxConnectionsPerIP: a real MTA opens a few parallel sessions to one host
	// (Postfix's default destination concurrency is 20 for all of a domain's hosts); 20 of the
	// 200 slots leaves room for nine other senders even when one holds all of its own.
	DefaultMaxConnectionsPerIP = 20
	DefaultSMTPTimeout         = 60 * time.Second
	// DefaultIdleTimeout is twice the command timeout: long enough for an MTA between two
	// messages of a queue run, short enough that a NOOP loop frees its slot.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultSessionLifetime is far beyond any honest session (RFC 5321's longest timeout,
	// the 10 minutes for the end of DATA, fits in it) and bounds a dishonest one.
	DefaultSessionLifetime = 15 * time.Minute
	DefaultStoreTimeout    = 30 * time.Second
	DefaultDrainTimeout    = 20 * time.Second
)

func (o *SMTPOptions) setDefaults() {
	if o.Domain == "" {
		o.Domain = "localhost"
	}
	if o.MaxMessageBytes == 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.MaxRecipients == 0 {
		o.MaxRecipients = DefaultMaxRecipients
	}
	if o.MaxLineLength == 0 {
		o.MaxLineLength = DefaultMaxLineLength
	}
	if o.MaxConnections == 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.MaxConnectionsPerIP == 0 {
		o.MaxConnectionsPerIP = DefaultMaxConnectionsPerIP
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = DefaultSMTPTimeout
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.SessionLifetime == 0 {
		o.SessionLifetime = DefaultSessionLifetime
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultSMTPTimeout
	}
	if o.StoreTimeout == 0 {
		o.StoreTimeout = DefaultStoreTimeout
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.Parse == nil {
		o.Parse = DefaultParse(0)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New()
	}
}

func (o *SMTPOptions) validate() error {
	switch {
	case o.Sink == nil:
		return errors.New("email: SMTP server needs a Sink")
	case len(o.Recipients) == 0:
		return errors.New("email: SMTP server needs at least one recipient address")
	case o.MaxMessageBytes < 1024:
		return fmt.Errorf("email: MaxMessageBytes %d is below 1024", o.MaxMessageBytes)
	case o.MaxRecipients < 1 || o.MaxLineLength < 1000 || o.MaxConnections < 1:
		return errors.New("email: MaxRecipients and MaxConnections must be positive, MaxLineLength at least 1000")
	case o.ReadTimeout < 0 || o.WriteTimeout < 0 || o.StoreTimeout < 0 || o.IdleTimeout < 0 || o.SessionLifetime < 0:
		return errors.New("email: timeouts must not be negative")
	case o.MaxConnectionsPerIP < 1:
		return errors.New("email: MaxConnectionsPerIP must be positive")
	}
	for addr, comune := range o.Recipients {
		if addr != strings.ToLower(addr) || !strings.Contains(addr, "@") || comune == "" {
			return fmt.Errorf("email: recipient %q -> %q: want a lower-case address and a comune", addr, comune)
		}
	}
	return nil
}

// SMTP replies the server gives besides go-smtp's own.
var (
	errRelayDenied = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message: "Relaying denied: this server accepts mail only for its own addresses"}
	errStoreFailed = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Message not stored, please try again later"}
	errRefused = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "Message refused: its content cannot be stored"}
	errNotAMessage = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "Not a message: no readable header or text"}
	errShuttingDown = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2},
		Message: "Shutting down, please try again later"}
	errLineTooLong = &smtp.SMTPError{Code: 500, EnhancedCode: smtp.EnhancedCode{5, 5, 2},
		Message: "Line too long"}
)

// SMTPServer accepts mail for the comuni's addresses and stores each message before it
// answers 250.
type SMTPServer struct {
	opts SMTPOptions
	srv  *smtp.Server

	mu       sync.Mutex
	ln       net.Listener
	closing  bool
	inflight sync.WaitGroup
}

// NewSMTPServer validates opts and builds the server; nothing listens until Listen or Serve.
func NewSMTPServer(opts SMTPOptions) (*SMTPServer, error) {
	opts.setDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &SMTPServer{opts: opts}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = opts.Domain
	srv.MaxMessageBytes = opts.MaxMessageBytes
	srv.MaxRecipients = opts.MaxRecipients
	srv.MaxLineLength = opts.MaxLineLength
	srv.ReadTimeout = opts.ReadTimeout
	srv.WriteTimeout = opts.WriteTimeout
	srv.TLSConfig = opts.TLSConfig
	srv.ErrorLog = slogPrinter{opts.Logger}
	s.srv = srv
	return s, nil
}

// Listen binds opts.Listen now, so Addr is known (a test's port 0) before Serve starts.
func (s *SMTPServer) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	if s.opts.Listen == "" {
		return errors.New("email: no SMTP listen address")
	}
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	s.ln = ln
	return nil
}

// Addr is the address the server listens on ("" before Listen or Serve).
func (s *SMTPServer) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// ListenAndServe serves until ctx ends, then shuts down: it stops accepting, lets messages
// being stored finish (up to DrainTimeout), and closes every connection.
func (s *SMTPServer) ListenAndServe(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	errc := make(chan error, 1)
	go func() { errc <- s.serve(ln) }()
	s.opts.Logger.Info("smtp server listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// A deliberate stop: a failure to close or to end serving is worth a warning, not an error.
	if err := s.Close(); err != nil {
		s.opts.Logger.Warn("smtp shutdown: close", "err", err)
	}
	if err := <-errc; err != nil {
		s.opts.Logger.Warn("smtp shutdown: serve", "err", err)
	}
	return nil
}

// Serve accepts connections on ln until Close.
func (s *SMTPServer) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.ln == nil {
		s.ln = ln
	}
	s.mu.Unlock()
	return s.serve(ln)
}

func (s *SMTPServer) serve(ln net.Listener) error {
	err := s.srv.Serve(&limitListener{Listener: ln, slots: make(chan struct{}, s.opts.MaxConnections),
		perIP: map[string]int{}, maxPerIP: s.opts.MaxConnectionsPerIP, idle: s.opts.IdleTimeout, lifetime: s.opts.SessionLifetime, readTimeout: s.opts.ReadTimeout,
		domain: s.opts.Domain, log: s.opts.Logger})
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops accepting, waits up to DrainTimeout for messages being stored (their clients
// get their 250), then closes every connection. Messages arriving meanwhile get 421.
func (s *SMTPServer) Close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.opts.DrainTimeout):
		s.opts.Logger.Warn("smtp shutdown: messages still being stored after the drain timeout")
	}
	err := s.srv.Close()
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// begin registers a message being stored, unless the server is closing.
func (s *SMTPServer) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.inflight.Add(1)
	return true
}

func (s *SMTPServer) newSession(c *smtp.Conn) (smtp.Session, error) {
	conn := c.Conn()
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	sc, _ := conn.(*slotConn)
	var ip net.IP
	if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		ip = a.IP
	}
	return &session{s: s, conn: sc, c: c, ip: ip, remote: c.Conn().RemoteAddr().String()}, nil
}

// session is one SMTP conversation; go-smtp calls it from one goroutine.
type session struct {
	s *SMTPServer
	// conn is the connection under any TLS, which tells when the reply to DATA is written.
	conn   *slotConn
	c      *smtp.Conn
	ip     net.IP
	remote string
	from   string
	// rcpt is the first accepted recipient, whose comune the message belongs to; others is
	// any further accepted recipient.
	rcpt, comune string
	others       []string
}

func (ss *session) Reset() {
	ss.from, ss.rcpt, ss.comune, ss.others = "", "", "", nil
}

func (ss *session) Logout() error { return nil }

// progress tells the connection the client is doing something useful (see IdleTimeout).
func (ss *session) progress() {
	if ss.conn != nil {
		ss.conn.progress()
	}
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.progress()
	// An empty reverse path (<>) is a bounce; keep it empty.
	ss.from = ""
	if from != "" {
		if addr, err := channels.NormalizeEmail(from); err == nil {
			ss.from = addr
		} else {
			ss.from = strings.ToLower(from)
		}
	}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.progress()
	addr := strings.ToLower(strings.TrimSpace(to))
	comune, ok := ss.s.opts.Recipients[addr]
	if !ok {
		ss.s.opts.Metrics.SMTPMessages.WithLabelValues("relay_denied").Inc()
		ss.s.opts.Logger.Info("smtp: recipient refused", "rcpt", addr, "from", ss.from, "remote", ss.remote)
		return errRelayDenied
	}
	if ss.rcpt == "" {
		ss.rcpt, ss.comune = addr, comune
	} else if addr != ss.rcpt {
		ss.others = append(ss.others, addr)
	}
	return nil
}

func (ss *session) Data(r io.Reader) error {
	s := ss.s
	done := ss.conn.readingMessage()
	raw, err := readMessage(r, messageBufferBytes)
	done()
	if err != nil {
		// go-smtp answers what Data returns; its own errors (552 over the size limit) must
		// reach the client unchanged.
		var se *smtp.SMTPError
		switch {
		case errors.As(err, &se):
			if se.Code == 552 {
				s.opts.Metrics.SMTPMessages.WithLabelValues("too_large").Inc()
			}
			return se
		case errors.Is(err, smtp.ErrTooLongLine):
			s.opts.Metrics.SMTPMessages.WithLabelValues("line_too_long").Inc()
			return errLineTooLong
		}
		return err
	}
	if !s.begin() {
		return errShuttingDown
	}
	// The message counts as in flight until its reply is on the wire: shutdown must not
	// close the connection between a commit and the 250 that acknowledges it.
	if ss.conn != nil {
		defer ss.conn.afterNextWrite(s.inflight.Done)
	} else {
		defer s.inflight.Done()
	}
	arrived := time.Now()
	in, err := messageFromRaw(s.opts.Parse, raw, ss.from, arrived)
	if err != nil {
		s.opts.Metrics.SMTPMessages.WithLabelValues("not_a_message").Inc()
		s.opts.Logger.Info("smtp: refused input that is not a message", "from", ss.from, "remote", ss.remote, "bytes", len(raw), "err", err)
		return errNotAMessage
	}
	in.Comune, in.To = ss.comune, ss.rcpt
	if len(ss.others) > 0 {
		in.Notes = append(in.Notes, "inviato anche a: "+strings.Join(ss.others, ", "))
	}
	if ss.from == "" {
		in.AutoReply = true
	}
	in.EnvelopeFrom = ss.from
	in.ReceivedOverSMTP = true
	if ip, ok := netip.AddrFromSlice(ss.ip); ok {
		in.ClientIP = ip.Unmap()
	}
	if s.opts.Senders != nil && !in.AutoReply {
		in.SenderCheck = s.opts.Senders.Check(context.Background(), ss.ip, ss.c.Hostname(), ss.from, in.From, raw)
	}
	// The client waits for our answer: the store's work must not be cut short by a
	// shutdown, only bounded in time.
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.StoreTimeout)
	defer cancel()
	rec, err := s.opts.Sink.Receive(ctx, in)
	if isPermanentRefusal(err) {
		// Refused for what it holds: every retry would be refused too, so the sender is told
		// now (a bounce) rather than after days of retries.
		s.opts.Metrics.SMTPMessages.WithLabelValues("refused").Inc()
		s.opts.Logger.Error("smtp: message refused by the store; client told not to retry", "message_id", in.MessageID, "from", in.From, "err", err)
		return errRefused
	}
	if err != nil {
		s.opts.Metrics.SMTPMessages.WithLabelValues("store_error").Inc()
		s.opts.Logger.Error("smtp: message not stored; client told to retry", "message_id", in.MessageID, "from", in.From, "err", err)
		return errStoreFailed
	}
	result := "accepted"
	if rec.Duplicate {
		result = "duplicate"
	}
	s.opts.Metrics.SMTPMessages.WithLabelValues(result).Inc()
	s.opts.Logger.Debug("smtp: message stored", "message_id", in.MessageID, "contact", rec.ContactID, "duplicate", rec.Duplicate, "took", time.Since(arrived))
	return nil
}

// messageBufferBytes is the first buffer a message is read into: most mail fits, and
// io.ReadAll's growth from 512 bytes copied a 3 KB message five times.
const messageBufferBytes = 8 << 10

// readMessage is io.ReadAll starting with a buffer of size bytes.
func readMessage(r io.Reader, size int) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// limitListener bounds open connections, in all and per client address: one over a limit is
// told 421 and closed, so a flood cannot exhaust memory or file descriptors, and one client
// cannot take the slots of everyone else.
type limitListener struct {
	net.Listener
	slots       chan struct{}
	maxPerIP    int
	idle        time.Duration
	lifetime    time.Duration
	readTimeout time.Duration
	domain      string
	log         *slog.Logger

	mu    sync.Mutex
	perIP map[string]int
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c)
		if !l.takeIP(ip) {
			l.refuse(c, "too many connections from this address", "per_ip", l.maxPerIP)
			continue
		}
		select {
		case l.slots <- struct{}{}:
			now := time.Now()
			sc := &slotConn{Conn: c, release: func() { <-l.slots; l.releaseIP(ip) },
				idle: l.idle, end: now.Add(l.lifetime), readTimeout: l.readTimeout}
			sc.lastProgress.Store(now.UnixNano())
			return sc, nil
		default:
			l.releaseIP(ip)
			l.refuse(c, "too many open", "max", cap(l.slots))
		}
	}
}

func (l *limitListener) takeIP(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perIP[ip] >= l.maxPerIP {
		return false
	}
	l.perIP[ip]++
	return true
}

func (l *limitListener) releaseIP(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perIP[ip]--; l.perIP[ip] <= 0 {
		delete(l.perIP, ip)
	}
}

func (l *limitListener) refuse(c net.Conn, why, limitName string, limit int) {
	l.log.Warn("smtp: connection refused, "+why, "remote", c.RemoteAddr().String(), limitName, limit)
	go func() {
		// A courtesy line to a client being turned away: if it cannot be written the
		// client sees the connection close, which tells it the same.
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, "421 4.7.0 "+l.domain+" Too many connections, try again later\r\n")
		_ = c.Close()
	}()
}

// remoteIP is the client the per-address cap counts: an IPv4 address, or an IPv6 address by
// its /64 (a client usually holds a whole /64).
func remoteIP(c net.Conn) string { return clientaddr.LimitKey(c.RemoteAddr().String()) }

// slotConn is an accepted connection holding a slot. It enforces the idle timeout and the
// session lifetime by clamping every read deadline go-smtp sets: the read waiting for the
// next command then times out, and go-smtp answers 421 and closes. Writes are never clamped,
// so the answer to a message already stored still reaches the client.
type slotConn struct {
	net.Conn
	once    sync.Once
	release func()

	idle         time.Duration
	end          time.Time
	lastProgress atomic.Int64
	// readTimeout is go-smtp's deadline for a command line, which it also sets once for a
	// whole DATA; extendedAt is when a message's bytes last pushed that deadline on.
	readTimeout time.Duration
	extendedAt  time.Time
	inMessage   atomic.Bool

	mu      sync.Mutex
	onWrite func()
}

func (c *slotConn) progress() { c.lastProgress.Store(time.Now().UnixNano()) }

func (c *slotConn) SetReadDeadline(t time.Time) error {
	limit := c.end
	if idleEnd := time.Unix(0, c.lastProgress.Load()).Add(c.idle); idleEnd.Before(limit) {
		limit = idleEnd
	}
	if t.IsZero() || t.After(limit) {
		t = limit
	}
	return c.Conn.SetReadDeadline(t)
}

// extendRead moves the read deadline on while a message's bytes keep arriving: go-smtp sets it
// once for the whole DATA, so a sender slower than its size over ReadTimeout (10 MiB in 60 s is
// 1.4 Mbit/s) could never deliver. The idle timeout and the session's lifetime still bound it
// (SetReadDeadline clamps). Called from the one goroutine that reads the connection, for every
// read of a message's bytes (go-smtp's DATA reader fills whole buffers, so its own reads
// return too seldom).
func (c *slotConn) extendRead() {
	if c.readTimeout <= 0 || time.Since(c.extendedAt) < c.readTimeout/4 {
		return
	}
	c.extendedAt = time.Now()
	_ = c.SetReadDeadline(c.extendedAt.Add(c.readTimeout)) // a failure leaves go-smtp's deadline, as before
}

func (c *slotConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && c.inMessage.Load() {
		c.progress()
		c.extendRead()
	}
	return n, err
}

// readingMessage marks the reads from now until done as a message's bytes: each is progress
// (a long upload is not idle) and moves the read deadline on.
func (c *slotConn) readingMessage() (done func()) {
	if c == nil {
		return func() {}
	}
	c.inMessage.Store(true)
	return func() { c.inMessage.Store(false) }
}

func (c *slotConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// afterNextWrite runs f once the next write (the reply to DATA) is done, or the connection
// is closed.
func (c *slotConn) afterNextWrite(f func()) {
	c.mu.Lock()
	c.onWrite = f
	c.mu.Unlock()
}

func (c *slotConn) takeOnWrite() func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.onWrite
	c.onWrite = nil
	return f
}

func (c *slotConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if f := c.takeOnWrite(); f != nil {
		f()
	}
	return n, err
}

func (c *slotConn) Close() error {
	c.once.Do(c.release)
	err := c.Conn.Close()
	if f := c.takeOnWrite(); f != nil {
		f()
	}
	return err
}

// slogPrinter adapts go-smtp's logger to slog.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) {
	p.log.Warn("smtp: " + strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (p slogPrinter) Println(v ...any) {
	p.log.Warn("smtp: " + strings.TrimSpace(fmt.Sprintln(v...)))
}
