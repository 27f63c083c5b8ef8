// Package ingest is the one door inbound traffic comes through: every adapter hands its
// normalized message to Service.Receive, which decides comune, category and queue, stores the
// message durably (exactly once per provider id), and only then tells the rest of the gateway
// (live events, assignment, automatic answers).
package ingest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/metrics"
	"github.com/sportello/sportello/store"
)

// Decision is where a new contact goes.
type Decision struct {
	Comune   string
	Category string
	Queue    string
	Priority int
	SLADue   time.Time
}

// Decider routes an inbound message before it is stored.
type Decider interface {
	Decide(ctx context.Context, in channels.InboundMessage) Decision
}

// Transform rewrites an inbound message before routing (mail from a fax gateway becomes a fax).
type Transform interface {
	Apply(in *channels.InboundMessage) bool
}

// Follower acts on a stored message: assignment, automatic answers, OCR. It runs after the
// commit, off the request path (a small pool of workers; inline when the pool is saturated),
// so it must not be needed for durability and must recover by itself after a crash (a periodic
// sweep); it logs its own errors.
type Follower interface {
	Received(ctx context.Context, in channels.InboundMessage, r channels.Receipt, d Decision)
}

// CallFollower is a Follower that also hears when a call has ended: its operator is free for
// the next call (router: one call at a time). Detected by type assertion.
type CallFollower interface {
	CallEnded(ctx context.Context, contactID string)
}

// InTx runs inside the storing transaction, for work that must exist exactly when the
// message does (a durable job).
type InTx func(ctx context.Context, tx *store.Tx, in channels.InboundMessage, r channels.Receipt) error

// Options wire a Service.
type Options struct {
	Store      *store.Store
	Events     events.Publisher
	Metrics    *metrics.Metrics
	Decider    Decider
	Transforms []Transform
	Followers  []Follower
	InTx       []InTx
	Logger     *slog.Logger
	// FollowerWorkers run followers after the webhook was answered (default 4).
	FollowerWorkers int
	// InlineFollowers runs followers before Receive returns (tests that check their effect).
	InlineFollowers bool
}

// Service implements channels.Sink and channels.CallSink.
type Service struct {
	opts Options

	mu      sync.RWMutex
	closed  bool
	follow  chan followUp
	workers sync.WaitGroup
}

type followUp struct {
	ctx context.Context
	in  channels.InboundMessage
	r   channels.Receipt
	d   Decision
}

// New validates the options and returns the service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("ingest: a store is required")
	}
	if opts.Events == nil {
		opts.Events = events.NewHub()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New()
	}
	if opts.FollowerWorkers <= 0 {
		opts.FollowerWorkers = 4
	}
	s := &Service{opts: opts, follow: make(chan followUp, 256*opts.FollowerWorkers)}
	for i := 0; i < opts.FollowerWorkers; i++ {
		s.workers.Add(1)
		go func() {
			defer s.workers.Done()
			for f := range s.follow {
				s.runFollowers(f)
			}
		}()
	}
	return s, nil
}

// Close lets the followers finish what was handed to them; later messages run them inline.
func (s *Service) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.follow)
	}
	s.mu.Unlock()
	s.workers.Wait()
}

func (s *Service) runFollowers(f followUp) {
	for _, fl := range s.opts.Followers {
		fl.Received(f.ctx, f.in, f.r, f.d)
	}
}

// handOff queues the followers' work, or runs it here when the pool is saturated or closed
// (back-pressure instead of unbounded memory).
func (s *Service) handOff(f followUp) {
	if len(s.opts.Followers) == 0 {
		return
	}
	if s.opts.InlineFollowers {
		s.runFollowers(f)
		return
	}
	s.mu.RLock()
	if !s.closed {
		select {
		case s.follow <- f:
			s.mu.RUnlock()
			return
		default:
		}
	}
	s.mu.RUnlock()
	s.runFollowers(f)
}

// SetDecider replaces the decider (wiring: the router is built after the service).
func (s *Service) SetDecider(d Decider) { s.opts.Decider = d }

// AddTransform adds a rewrite applied before routing.
func (s *Service) AddTransform(t Transform) { s.opts.Transforms = append(s.opts.Transforms, t) }

// AddFollower adds a follower after construction (wiring order: some followers need the service).
func (s *Service) AddFollower(f Follower) { s.opts.Followers = append(s.opts.Followers, f) }

// AddInTx adds work that runs inside the storing transaction.
func (s *Service) AddInTx(f InTx) { s.opts.InTx = append(s.opts.InTx, f) }

// RefusedError is a message the store refused for what it holds, not for the database's
// health (a value PostgreSQL cannot hold, a limit exceeded): it fails the same way however
// often it is retried, so an adapter must not retry it forever (an IMAP poller would never
// read the mail behind it).
type RefusedError struct {
	Err error
}

func (e *RefusedError) Error() string {
	return "ingest: the store refused the message: " + e.Err.Error()
}

// Unwrap returns the database's error.
func (e *RefusedError) Unwrap() error { return e.Err }

// Permanent lets adapters recognize a refusal without importing this package: retrying is
// useless.
func (e *RefusedError) Permanent() bool { return true }

// storeError classifies a store failure: a refusal of the data becomes a *RefusedError, any
// other failure (a lost connection, a busy database) is returned as it is, to be retried.
func (s *Service) storeError(op string, err error) error {
	s.opts.Metrics.StoreErrors.WithLabelValues(op).Inc()
	if store.IsRefusedData(err) {
		return &RefusedError{Err: err}
	}
	return err
}

// Receive stores an inbound message and returns once it is durable. A message the store
// refuses for what it holds is reported as a *RefusedError.
func (s *Service) Receive(ctx context.Context, in channels.InboundMessage) (channels.Receipt, error) {
	in = storable(in)
	for _, t := range s.opts.Transforms {
		if t.Apply(&in) {
			break
		}
	}
	var d Decision
	if s.opts.Decider != nil {
		d = s.opts.Decider.Decide(ctx, in)
	}
	if d.Comune == "" {
		d.Comune = in.Comune
	}
	req := store.IngestRequest{In: in, Comune: d.Comune, Category: d.Category, Queue: d.Queue, Priority: d.Priority, SLADue: d.SLADue}
	if len(s.opts.InTx) > 0 {
		req.After = func(ctx context.Context, tx *store.Tx, r channels.Receipt) error {
			// As Receive returns it: a new contact's comune, which InTx work then need not read back.
			r.Comune = d.Comune
			for _, f := range s.opts.InTx {
				if err := f(ctx, tx, in, r); err != nil {
					return err
				}
			}
			return nil
		}
	}
	r, err := s.opts.Store.Ingest(ctx, req)
	if err != nil {
		return r, s.storeError("ingest", err)
	}
	r.Comune = d.Comune
	if r.Duplicate {
		s.opts.Metrics.Duplicates.WithLabelValues(string(in.Channel)).Inc()
		return r, nil
	}
	s.opts.Metrics.Contacts.WithLabelValues(string(in.Channel)).Inc()
	typ := events.ContactUpdated
	if r.New {
		typ = events.ContactCreated
	}
	s.publish(ctx, events.Event{Type: typ, ContactID: r.ContactID, Comune: d.Comune})
	// The request's context ends with the webhook's answer; the followers' work does not.
	s.handOff(followUp{ctx: context.WithoutCancel(ctx), in: in, r: r, d: d})
	return r, nil
}

// UpdateCall records news about a known call.
func (s *Service) UpdateCall(ctx context.Context, ch channels.Kind, externalID string, ev channels.CallEvent) (string, error) {
	makeStorable(&externalID)
	ev = storableCallEvent(ev)
	id, err := s.opts.Store.UpdateCall(ctx, ch, externalID, store.CallUpdate{Status: ev.Status, Duration: ev.Duration,
		RecordingURL: ev.RecordingURL, AnsweredAt: ev.AnsweredAt, EndedAt: ev.EndedAt, Operator: ev.Operator,
		Result: ev.Result, WaitSeconds: ev.WaitSeconds, TransferredTo: ev.TransferredTo, Offer: ev.Offer})
	if errors.Is(err, store.ErrNotFound) {
		return "", channels.ErrUnknownCall
	}
	if errors.Is(err, store.ErrStaleOffer) {
		return "", channels.ErrStaleOffer
	}
	if err != nil {
		s.opts.Metrics.StoreErrors.WithLabelValues("update_call").Inc()
		return "", err
	}
	if ev.Category != "" {
		if err := s.categorize(ctx, id, ev.Category); err != nil {
			return id, err
		}
	}
	if ev.RecordingURL != "" {
		// Once per recording: Twilio retries the <Record action>, and the status callback
		// repeats the same URL.
		voicemail := channels.Attachment{Filename: "voicemail.wav", ContentType: "audio/wav", URL: ev.RecordingURL}
		if _, _, err := s.opts.Store.AddAttachmentOnce(ctx, id, voicemail); err != nil {
			return id, err
		}
	}
	s.publish(ctx, events.Event{Type: events.ContactUpdated, ContactID: id})
	if ev.AnsweredAt != nil && ev.Operator != "" {
		s.publish(ctx, events.Event{Type: events.ScreenPop, ContactID: id, User: ev.Operator})
	}
	if ev.EndedAt != nil {
		for _, fl := range s.opts.Followers {
			if cf, ok := fl.(CallFollower); ok {
				cf.CallEnded(context.WithoutCancel(ctx), id)
			}
		}
	}
	return id, nil
}

// categorize applies a caller's menu choice: category, and the queue the decider picks for it.
func (s *Service) categorize(ctx context.Context, contactID, category string) error {
	c, err := s.opts.Store.GetContact(ctx, contactID, store.Scope{})
	if err != nil {
		return err
	}
	d := Decision{Category: category}
	if s.opts.Decider != nil {
		in := channels.InboundMessage{Channel: c.Channel, From: c.From, To: c.To, Body: c.Body}
		if c.Comune != nil {
			in.Comune = *c.Comune
		}
		d = s.opts.Decider.Decide(ctx, in)
		d.Category = category
		if r, ok := s.opts.Decider.(interface {
			QueueFor(comune, category string, ch channels.Kind) (string, int, time.Time)
		}); ok {
			d.Queue, d.Priority, d.SLADue = r.QueueFor(in.Comune, category, c.Channel)
		}
	}
	return s.opts.Store.SetRouting(ctx, contactID, store.Routing{Category: category, Queue: d.Queue, Priority: d.Priority, SLADue: d.SLADue})
}

func (s *Service) publish(ctx context.Context, e events.Event) {
	if err := s.opts.Events.Publish(ctx, e); err != nil {
		s.opts.Logger.Warn("publishing a live event failed", "type", e.Type, "contact", e.ContactID, "err", err)
	}
}

// Publish lets other parts of the gateway announce changes through the same publisher.
func (s *Service) Publish(ctx context.Context, e events.Event) { s.publish(ctx, e) }

// DeliveryReceipt records news about one of our outbound messages (a PEC receipt) and tells
// the inbox; it implements channels.ReceiptSink.
func (s *Service) DeliveryReceipt(ctx context.Context, r channels.DeliveryReceipt) (string, error) {
	id, err := s.opts.Store.ApplyDeliveryReceipt(ctx, storableReceipt(r))
	if err != nil {
		if errors.Is(err, channels.ErrUnknownMessage) {
			return "", err
		}
		return "", s.storeError("delivery_receipt", err)
	}
	ev := events.Event{Type: events.ContactUpdated, ContactID: id}
	if c, err := s.opts.Store.ContactBrief(ctx, id, store.Scope{}); err == nil && c.Comune != nil {
		ev.Comune = *c.Comune
	}
	s.publish(ctx, ev)
	return id, nil
}
