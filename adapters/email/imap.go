package email

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/sportello/sportello/adapters/email/pec"
	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/metrics"
)

// UIDStore keeps where each mailbox's poller stands (store.Store implements it).
type UIDStore interface {
	IMAPState(ctx context.Context, mailbox string) (uidValidity, lastUID uint32, err error)
	SaveIMAPState(ctx context.Context, mailbox string, uidValidity, lastUID uint32) error
}

// IMAPOptions configure one mailbox's poller.
type IMAPOptions struct {
	// Comune every message of this mailbox belongs to.
	Comune string
	// Address is host:port; Security is none, starttls or tls.
	Address  string
	Security string
	Username string
	Password string
	// Mailbox is the folder read (INBOX by default).
	Mailbox string
	// MoveTo, when set, moves each stored message there instead of flagging it \Seen.
	MoveTo string
	// PollInterval is how often a server without IDLE is asked for new mail.
	PollInterval time.Duration
	// NoIdle polls even when the server offers IDLE (for servers whose IDLE is unreliable).
	NoIdle bool
	// IdleRefresh is how long one IDLE lasts before the poller looks anyway (a safety net for
	// lost notifications and half-open connections).
	IdleRefresh time.Duration
	// TLSConfig for tls and starttls (ServerName defaults to the host of Address).
	TLSConfig *tls.Config
	// MaxMessageBytes bounds a fetched message; a larger one is imported by its header only,
	// with a note, and left unread in the mailbox for a person to look at.
	MaxMessageBytes int64
	// BatchSize is how many messages are fetched, stored and flagged together.
	BatchSize   int
	DialTimeout time.Duration
	// ShutdownGrace is how long, once Run's context ends, the message being stored may take
	// to be flagged and recorded before the connection is cut.
	ShutdownGrace time.Duration
	// StoreTimeout bounds one message's Sink.Receive.
	StoreTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait before reconnecting after a failure.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	Sink       channels.Sink
	State      UIDStore
	// Parse reads a raw message (DefaultParse when nil).
	Parse ParseFunc
	// Senders checks DKIM and DMARC of each message (no SPF: the client's address is not
	// known here); nil: not checked, so no message gets an automatic answer.
	Senders *SenderChecker
	// PEC reads the mailbox as a PEC box: envelopes become pec contacts, receipts go to
	// Receipts, ordinary mail stays email. PECRoots are the providers' CAs the signatures are
	// checked against (nil: checked, never "valid").
	PEC      bool
	PECRoots *x509.CertPool
	Receipts channels.ReceiptSink
	Logger   *slog.Logger
	Metrics  *metrics.Metrics
}

func (o *IMAPOptions) setDefaults() {
	if o.Security == "" {
		o.Security = "tls"
	}
	if o.Mailbox == "" {
		o.Mailbox = "INBOX"
	}
	if o.PollInterval == 0 {
		o.PollInterval = 30 * time.Second
	}
	if o.IdleRefresh == 0 {
		o.IdleRefresh = 5 * time.Minute
	}
	if o.MaxMessageBytes == 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.BatchSize == 0 {
		o.BatchSize = 50
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 30 * time.Second
	}
	if o.ShutdownGrace == 0 {
		o.ShutdownGrace = 10 * time.Second
	}
	if o.StoreTimeout == 0 {
		o.StoreTimeout = DefaultStoreTimeout
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 5 * time.Minute
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

func (o *IMAPOptions) validate() error {
	if _, _, err := net.SplitHostPort(o.Address); err != nil {
		return fmt.Errorf("email: IMAP address %q: %w", o.Address, err)
	}
	switch o.Security {
	case "none", "starttls", "tls":
	default:
		return fmt.Errorf("email: IMAP security must be none, starttls or tls, got %q", o.Security)
	}
	switch {
	case o.Comune == "":
		return errors.New("email: an IMAP mailbox needs its comune")
	case o.Username == "":
		return errors.New("email: an IMAP mailbox needs a username")
	case o.Sink == nil || o.State == nil:
		return errors.New("email: an IMAP poller needs a Sink and a State store")
	case o.PollInterval < 0 || o.IdleRefresh < 0 || o.MinBackoff < 0 || o.MaxBackoff < o.MinBackoff || o.ShutdownGrace < 0 || o.StoreTimeout < 0:
		return errors.New("email: IMAP intervals must be positive and MaxBackoff at least MinBackoff")
	case o.MaxMessageBytes < 1024 || o.BatchSize < 1:
		return errors.New("email: IMAP MaxMessageBytes must be at least 1024 and BatchSize positive")
	case o.MoveTo != "" && o.MoveTo == o.Mailbox:
		return errors.New("email: IMAP move_to must differ from the mailbox read")
	case o.PEC && o.Receipts == nil:
		return errors.New("email: a PEC mailbox needs a Receipts sink")
	}
	return nil
}

// IMAPStats is what a poller has done so far.
type IMAPStats struct {
	// Sessions counts logins that reached the mailbox (a reconnect adds one).
	Sessions int
	// Stored counts messages the Sink accepted (duplicates included).
	Stored    int
	Connected bool
	LastError string
}

// IMAPPoller ingests one mailbox: messages with a UID above the last one stored are fetched
// (BODY.PEEK[]), handed to the Sink, and only then flagged \Seen (or moved) and recorded.
// It waits with IDLE when the server has it and polls otherwise, and reconnects with
// exponential backoff.
type IMAPPoller struct {
	opts IMAPOptions
	key  string

	mu    sync.Mutex
	stats IMAPStats
}

// NewIMAPPoller validates opts and builds the poller; Run starts it.
func NewIMAPPoller(opts IMAPOptions) (*IMAPPoller, error) {
	opts.setDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	key := opts.Comune + "|" + opts.Address + "|" + opts.Username + "|" + opts.Mailbox
	return &IMAPPoller{opts: opts, key: key}, nil
}

// Key identifies the mailbox in the UIDStore and in logs and metrics.
func (p *IMAPPoller) Key() string { return p.key }

// Stats reports the poller's progress.
func (p *IMAPPoller) Stats() IMAPStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

func (p *IMAPPoller) update(f func(*IMAPStats)) {
	p.mu.Lock()
	f(&p.stats)
	p.mu.Unlock()
}

// Run polls until ctx ends; it returns nil then. Failures are logged and retried.
func (p *IMAPPoller) Run(ctx context.Context) error {
	backoff := p.opts.MinBackoff
	log := p.opts.Logger.With("mailbox", p.key)
	for {
		healthy, err := p.session(ctx)
		p.update(func(s *IMAPStats) { s.Connected = false })
		if ctx.Err() != nil {
			return nil
		}
		if healthy {
			backoff = p.opts.MinBackoff
		}
		if err != nil {
			p.update(func(s *IMAPStats) { s.LastError = err.Error() })
			log.Warn("imap: session ended; reconnecting", "err", err, "in", backoff)
		}
		// Jitter keeps many pollers of one server from reconnecting in step.
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(backoff*2, p.opts.MaxBackoff)
	}
}

func (p *IMAPPoller) dial(notify chan<- struct{}) (*imapclient.Client, error) {
	tlsConfig := &tls.Config{}
	if p.opts.TLSConfig != nil {
		tlsConfig = p.opts.TLSConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		host, _, _ := net.SplitHostPort(p.opts.Address)
		tlsConfig.ServerName = host
	}
	options := &imapclient.Options{
		TLSConfig: tlsConfig,
		Dialer:    &net.Dialer{Timeout: p.opts.DialTimeout},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(data *imapclient.UnilateralDataMailbox) {
				if data.NumMessages != nil {
					select {
					case notify <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	switch p.opts.Security {
	case "tls":
		return imapclient.DialTLS(p.opts.Address, options)
	case "starttls":
		return imapclient.DialStartTLS(p.opts.Address, options)
	default:
		return imapclient.DialInsecure(p.opts.Address, options)
	}
}

// session runs one connection: login, select, then fetch and wait until an error or ctx ends.
// healthy reports whether it got as far as a complete fetch pass.
func (p *IMAPPoller) session(ctx context.Context) (healthy bool, err error) {
	notify := make(chan struct{}, 1)
	c, err := p.dial(notify)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = c.Close() }() // the messages taken are already flagged and recorded
	// Commands of imapclient take no context: closing the connection is what interrupts them.
	// When ctx ends the message being stored still gets flagged and recorded, within a grace
	// period, so a restart does not fetch it again.
	var mu sync.Mutex
	var cut *time.Timer
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		cut = time.AfterFunc(p.opts.ShutdownGrace, func() { _ = c.Close() })
		mu.Unlock()
	})
	defer func() {
		stop()
		mu.Lock()
		if cut != nil {
			cut.Stop()
		}
		mu.Unlock()
	}()

	if err := c.WaitGreeting(); err != nil {
		return false, fmt.Errorf("greeting: %w", err)
	}
	if err := c.Login(p.opts.Username, p.opts.Password).Wait(); err != nil {
		return false, fmt.Errorf("login as %s: %w", p.opts.Username, err)
	}
	if p.opts.MoveTo != "" {
		if err := c.Create(p.opts.MoveTo, nil).Wait(); err != nil && !isAlreadyExists(err) {
			return false, fmt.Errorf("create %s: %w", p.opts.MoveTo, err)
		}
	}
	sel, err := c.Select(p.opts.Mailbox, nil).Wait()
	if err != nil {
		return false, fmt.Errorf("select %s: %w", p.opts.Mailbox, err)
	}
	validity, lastUID, err := p.opts.State.IMAPState(ctx, p.key)
	if err != nil {
		return false, fmt.Errorf("loading state: %w", err)
	}
	if validity != 0 && validity != sel.UIDValidity {
		// The server renumbered the mailbox: the old UIDs mean nothing now. Start over; the
		// store's Message-ID dedupe keeps what was already imported from coming in twice.
		p.opts.Logger.Warn("imap: UIDVALIDITY changed; reading the mailbox again from the start",
			"mailbox", p.key, "old", validity, "new", sel.UIDValidity)
		lastUID = 0
	}
	if validity != sel.UIDValidity {
		validity = sel.UIDValidity
		if err := p.opts.State.SaveIMAPState(ctx, p.key, validity, lastUID); err != nil {
			return false, fmt.Errorf("saving state: %w", err)
		}
	}
	p.update(func(s *IMAPStats) { s.Sessions++; s.Connected = true })
	idle := !p.opts.NoIdle && (c.Caps().Has(imap.CapIdle) || c.Caps().Has(imap.CapIMAP4rev2))
	p.opts.Logger.Info("imap: mailbox selected", "mailbox", p.key, "messages", sel.NumMessages,
		"uidvalidity", validity, "last_uid", lastUID, "idle", idle)

	for {
		lastUID, err = p.fetchNew(ctx, c, validity, lastUID)
		if err != nil {
			return healthy, err
		}
		healthy = true
		if idle {
			err = p.idle(ctx, c, notify)
		} else {
			err = p.wait(ctx, c, notify)
		}
		if ctx.Err() != nil {
			// Best effort: the server ends the session when the connection closes anyway.
			_ = c.Logout().Wait()
			return healthy, nil
		}
		if err != nil {
			return healthy, err
		}
	}
}

// idle waits in IDLE for new mail, the refresh interval, or the end.
func (p *IMAPPoller) idle(ctx context.Context, c *imapclient.Client, notify <-chan struct{}) error {
	cmd, err := c.Idle()
	if err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	timer := time.NewTimer(p.opts.IdleRefresh)
	defer timer.Stop()
	closed := false
	select {
	case <-notify:
	case <-timer.C:
	case <-ctx.Done():
	case <-c.Closed():
		closed = true
	}
	if err := cmd.Close(); err != nil && !closed && ctx.Err() == nil {
		return fmt.Errorf("ending idle: %w", err)
	}
	if err := cmd.Wait(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("idle: %w", err)
	}
	if closed {
		return errors.New("connection closed by the server")
	}
	return nil
}

// wait sleeps a poll interval on a server without IDLE.
func (p *IMAPPoller) wait(ctx context.Context, c *imapclient.Client, notify <-chan struct{}) error {
	timer := time.NewTimer(p.opts.PollInterval)
	defer timer.Stop()
	select {
	case <-notify:
	case <-timer.C:
	case <-ctx.Done():
	case <-c.Closed():
		return errors.New("connection closed by the server")
	}
	return nil
}

// pending is a message known by its UID and size, waiting to be fetched.
type pending struct {
	uid     imap.UID
	size    int64
	arrived time.Time
}

// fetchNew stores every message above lastUID, batch by batch, and returns the new last UID.
func (p *IMAPPoller) fetchNew(ctx context.Context, c *imapclient.Client, validity, lastUID uint32) (uint32, error) {
	var set imap.UIDSet
	set.AddRange(imap.UID(lastUID+1), 0) // 0 is "*"
	list, err := c.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true, InternalDate: true}).Collect()
	if err != nil {
		return lastUID, fmt.Errorf("listing new messages: %w", err)
	}
	var todo []pending
	for _, m := range list {
		// "n:*" names the last message even when its UID is below n.
		if uint32(m.UID) > lastUID {
			todo = append(todo, pending{uid: m.UID, size: m.RFC822Size, arrived: m.InternalDate})
		}
	}
	slices.SortFunc(todo, func(a, b pending) int { return cmp.Compare(a.uid, b.uid) })
	for len(todo) > 0 {
		n := min(len(todo), p.opts.BatchSize)
		lastUID, err = p.batch(ctx, c, validity, lastUID, todo[:n])
		if err != nil {
			return lastUID, err
		}
		todo = todo[n:]
	}
	return lastUID, nil
}

// batch fetches, stores, flags and records one batch. On a store failure it still flags and
// records what was stored before it, then returns the error.
func (p *IMAPPoller) batch(ctx context.Context, c *imapclient.Client, validity, lastUID uint32, batch []pending) (uint32, error) {
	done := map[imap.UID]bool{}
	var ack imap.UIDSet // stored messages to flag or move
	var small, large imap.UIDSet
	arrived := map[imap.UID]time.Time{}
	sizes := map[imap.UID]int64{}
	for _, m := range batch {
		arrived[m.uid], sizes[m.uid] = m.arrived, m.size
		if m.size > p.opts.MaxMessageBytes {
			large.AddNum(m.uid)
		} else {
			small.AddNum(m.uid)
		}
	}
	storeErr := p.fetchAndStore(ctx, c, small, imap.PartSpecifierNone, func(uid imap.UID, raw []byte, truncated bool) error {
		note := ""
		if truncated {
			// The server's RFC822.SIZE was wrong; the header still says who wrote.
			note = fmt.Sprintf("messaggio più grande di %d byte: importata solo la parte iniziale; l'originale è rimasto non letto nella casella", p.opts.MaxMessageBytes)
		}
		ok, err := p.store(ctx, uid, raw, arrived[uid], note)
		if err == nil {
			done[uid] = true
			if ok && !truncated {
				ack.AddNum(uid)
			}
		}
		return err
	})
	if storeErr == nil {
		storeErr = p.fetchAndStore(ctx, c, large, imap.PartSpecifierHeader, func(uid imap.UID, raw []byte, _ bool) error {
			note := fmt.Sprintf("messaggio di %d byte, oltre il limite di %d: importata solo l'intestazione; l'originale è rimasto non letto nella casella",
				sizes[uid], p.opts.MaxMessageBytes)
			p.opts.Metrics.IMAPMessages.WithLabelValues(p.key, "too_large").Inc()
			_, err := p.store(ctx, uid, raw, arrived[uid], note)
			if err == nil {
				done[uid] = true
			}
			return err
		})
	}
	// Progress is the longest run of handled UIDs from the start of the batch. A message that
	// vanished (expunged by someone else) counts as handled once its fetch completed.
	newLast := lastUID
	for _, m := range batch {
		if !done[m.uid] && storeErr != nil {
			break
		}
		newLast = uint32(m.uid)
	}
	if len(ack) > 0 {
		if err := p.acknowledge(c, ack); err != nil {
			// Not recorded: the next session fetches these again and the store's dedupe
			// recognizes them, then they are flagged.
			return lastUID, err
		}
	}
	if newLast != lastUID {
		// Progress is recorded even while shutting down: it is what keeps a restart from
		// fetching these again.
		if err := p.opts.State.SaveIMAPState(context.WithoutCancel(ctx), p.key, validity, newLast); err != nil {
			return lastUID, fmt.Errorf("saving state: %w", err)
		}
	}
	return newLast, storeErr
}

// fetchAndStore fetches the given section of each UID in set and hands it to store, one
// message at a time, reading at most MaxMessageBytes of each.
func (p *IMAPPoller) fetchAndStore(ctx context.Context, c *imapclient.Client, set imap.UIDSet, spec imap.PartSpecifier,
	store func(uid imap.UID, raw []byte, truncated bool) error) error {
	if len(set) == 0 {
		return nil
	}
	section := &imap.FetchItemBodySection{Specifier: spec, Peek: true}
	cmd := c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	var firstErr error
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		if firstErr != nil {
			continue // draining: Close discards the rest
		}
		var uid imap.UID
		var raw []byte
		truncated := false
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch item := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = item.UID
			case imapclient.FetchItemDataBodySection:
				if item.Literal == nil {
					continue
				}
				b, err := io.ReadAll(io.LimitReader(item.Literal, p.opts.MaxMessageBytes+1))
				if err != nil {
					firstErr = fmt.Errorf("reading message: %w", err)
					continue
				}
				if int64(len(b)) > p.opts.MaxMessageBytes {
					b, truncated = b[:p.opts.MaxMessageBytes], true
				}
				raw = b
			}
		}
		if firstErr != nil || uid == 0 || !set.Contains(uid) {
			continue
		}
		if err := store(uid, raw, truncated); err != nil {
			firstErr = err
		}
		if ctx.Err() != nil && firstErr == nil {
			firstErr = ctx.Err()
		}
	}
	if err := cmd.Close(); err != nil && firstErr == nil {
		firstErr = fmt.Errorf("fetching messages: %w", err)
	}
	return firstErr
}

// store parses and stores one message. ok is false for input that is not a message at all,
// or that the store refuses for good (logged, left unread in the mailbox and not retried).
func (p *IMAPPoller) store(ctx context.Context, uid imap.UID, raw []byte, arrived time.Time, note string) (ok bool, err error) {
	if arrived.IsZero() {
		arrived = time.Now()
	}
	// A truncated message cannot be certified: it is read as ordinary mail, with its note.
	if p.opts.PEC && note == "" {
		res, err := readPEC(p.opts.Parse, raw, p.opts.PECRoots, arrived)
		switch {
		case err == nil && res.receipt != nil:
			// The box's comune bounds which messages its receipts may be about.
			res.receipt.Comune = p.opts.Comune
			if res.distrust != "" {
				p.opts.Logger.Warn("imap: a PEC receipt not vouched for by its provider; kept as a note, delivery unchanged",
					"mailbox", p.key, "uid", uid, "type", res.receipt.Type, "ref", res.receipt.RefMessageID, "why", res.distrust)
			}
			return p.storeReceipt(ctx, uid, *res.receipt)
		case err == nil:
			res.in.Comune = p.opts.Comune
			return p.sink(ctx, uid, res.in)
		case !errors.Is(err, pec.ErrNotPEC):
			p.opts.Logger.Warn("imap: a PEC message could not be read as one; stored as ordinary mail", "mailbox", p.key, "uid", uid, "err", err)
		}
	}
	in, err := messageFromRaw(p.opts.Parse, raw, "", arrived)
	if err != nil {
		p.opts.Metrics.IMAPMessages.WithLabelValues(p.key, "not_a_message").Inc()
		p.opts.Logger.Warn("imap: skipped a message that is not one; left unread", "mailbox", p.key, "uid", uid, "bytes", len(raw), "err", err)
		return false, nil
	}
	in.Comune = p.opts.Comune
	// The delivering server wrote the envelope sender into Return-Path.
	in.EnvelopeFrom = returnPath(raw)
	if p.opts.Senders != nil && !in.AutoReply {
		in.SenderCheck = p.opts.Senders.Check(ctx, nil, "", in.EnvelopeFrom, in.From, raw)
	}
	if note != "" {
		in.Notes = append(in.Notes, note)
	}
	return p.sink(ctx, uid, in)
}

// sink hands one message to the Sink.
func (p *IMAPPoller) sink(ctx context.Context, uid imap.UID, in channels.InboundMessage) (ok bool, err error) {
	// A message being stored is finished even when shutdown begins (see ShutdownGrace).
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.StoreTimeout)
	defer cancel()
	rec, err := p.opts.Sink.Receive(sctx, in)
	if isPermanentRefusal(err) {
		p.skipRefused(uid, in.MessageID, err)
		return false, nil
	}
	if err != nil {
		p.opts.Metrics.IMAPMessages.WithLabelValues(p.key, "store_error").Inc()
		return false, fmt.Errorf("storing UID %d: %w", uid, err)
	}
	result := "stored"
	if rec.Duplicate {
		result = "duplicate"
	}
	p.opts.Metrics.IMAPMessages.WithLabelValues(p.key, result).Inc()
	p.update(func(s *IMAPStats) { s.Stored++ })
	return true, nil
}

// permanentRefusal is how a Sink reports a message it can never store as it is
// (ingest.RefusedError): its content, not the database's health, is the cause.
type permanentRefusal interface{ Permanent() bool }

func isPermanentRefusal(err error) bool {
	var pr permanentRefusal
	return errors.As(err, &pr) && pr.Permanent()
}

// skipRefused passes over a message the store refused for good: retrying it would stop the
// mailbox at this UID forever. Like input that is not a message, it is left unread in the
// mailbox for a person, and the poller goes on with the mail behind it.
func (p *IMAPPoller) skipRefused(uid imap.UID, messageID string, err error) {
	p.opts.Metrics.IMAPMessages.WithLabelValues(p.key, "refused").Inc()
	p.opts.Logger.Error("imap: the store refused a message for good; left unread in the mailbox",
		"mailbox", p.key, "uid", uid, "message_id", messageID, "err", err)
}

// storeReceipt applies a PEC receipt to the message of ours it is about. A receipt about a
// message we did not send (mail sent from the box by other means) is logged and taken off the
// box's new mail like the rest: it is never a contact.
func (p *IMAPPoller) storeReceipt(ctx context.Context, uid imap.UID, r channels.DeliveryReceipt) (bool, error) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.StoreTimeout)
	defer cancel()
	_, err := p.opts.Receipts.DeliveryReceipt(sctx, r)
	switch {
	case isPermanentRefusal(err):
		p.skipRefused(uid, r.RefMessageID, err)
		return false, nil
	case errors.Is(err, channels.ErrUnknownMessage):
		p.opts.Metrics.IMAPMessages.WithLabelValues(p.key, "receipt_unmatched").Inc()
		p.opts.Logger.Info("imap: a PEC receipt about a message not sent by Sportello", "mailbox", p.key, "uid", uid,
			"type", r.Type, "ref", r.RefMessageID)
	case err != nil:
		p.opts.Metrics.IMAPMessages.WithLabelValues(p.key, "store_error").Inc()
		return false, fmt.Errorf("storing the receipt of UID %d: %w", uid, err)
	default:
		p.opts.Metrics.IMAPMessages.WithLabelValues(p.key, "receipt").Inc()
	}
	p.update(func(s *IMAPStats) { s.Stored++ })
	return true, nil
}

// acknowledge marks stored messages as handled on the server: moved, or flagged \Seen.
func (p *IMAPPoller) acknowledge(c *imapclient.Client, set imap.UIDSet) error {
	if p.opts.MoveTo != "" {
		if _, err := c.Move(set, p.opts.MoveTo).Wait(); err != nil {
			return fmt.Errorf("moving to %s: %w", p.opts.MoveTo, err)
		}
		return nil
	}
	err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close()
	if err != nil {
		return fmt.Errorf("flagging \\Seen: %w", err)
	}
	return nil
}

func isAlreadyExists(err error) bool {
	var ie *imap.Error
	return errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists
}
