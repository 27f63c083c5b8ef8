// Package desk is the routing core's runtime and what an operator does to a contact. It routes
// every inbound message (comune, category, queue, priority, SLA: Decide), assigns new contacts to
// the available operator who waited longest (Received), drains the backlog when an operator
// becomes available, escalates contacts waiting past their SLA (RunSLA), answers closed-hours
// messages automatically (AutoReplySMS, AutoReplyEmailTx), and performs operator actions —
// reply, assign, claim, resolve, merge citizens, change presence — for the JSON API and the web
// inbox alike, each one scoped to the acting user's comuni and written to the audit log.
//
// Replies and forwards are durable: the outbound message and the River job that sends it are
// written in one transaction, and the job retries through provider outages.
package desk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/jobs"
	"github.com/sportello/sportello/metrics"
	"github.com/sportello/sportello/router"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/templates"
)

// Options wire a Desk. Store and Config are required.
type Options struct {
	Store  *store.Store
	Config *config.Config
	// Jobs returns the River client, read at call time (the gateway builds it after wiring).
	Jobs func() *jobs.Client
	// Events announces changes after they commit; nil drops them.
	Events events.Publisher
	// Senders deliver outbound messages by channel; the map is read at call time, so senders
	// wired after the desk are used.
	Senders map[channels.Kind]channels.Sender
	// Text holds the automatic answers and canned answers; nil parses the embedded templates.
	Text    *templates.Text
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	Now     func() time.Time
	// SLAInterval is how often RunSLA looks for overdue contacts (default 15 s).
	SLAInterval time.Duration
	// EscalationStep is how much an overdue contact's priority rises (0: router's default).
	EscalationStep int
	// MaxSendAttempts bounds the retries of one outbound message (default 100: with the backoff
	// capped at 10 minutes, about 16 hours of outage).
	MaxSendAttempts int
	// CalendarTTL is how long the edited business hours are trusted before they are read
	// again (router.DefaultCalendarTTL when 0).
	CalendarTTL time.Duration
	// Lookup asks the SMS provider whether an interrupted send got through, before an SMS is
	// sent again; nil resends (the provider may then deliver it twice).
	Lookup SentLookup
}

// SentLookup asks the SMS provider which messages it accepted for a number (implemented by
// twilio.MessageLookup and the local outbox).
type SentLookup interface {
	// FindSent returns the provider ids of messages to `to` with exactly `body` accepted at or
	// after since, newest first.
	FindSent(ctx context.Context, to, body string, since time.Time) ([]string, error)
}

// Desk performs routing and operator actions. It is safe for concurrent use.
type Desk struct {
	o          Options
	classifier *router.Classifier
	comuni     *router.ComuneResolver
	queues     *router.Queues
	hours      *router.Hours
	escalation router.Escalation
	// fromName and domain come from email.from: the sender's display name, and the domain of
	// our Message-IDs.
	fromName, fromAddr, domain string
	// calls moves live Twilio calls (SetCallConnector); nil: calls wait for a PBX or the CTI.
	calls CallConnector
	// available answers the follower of every new contact (see availability).
	available     availability
	offerTimeouts offerTimeouts
}

// New fills defaults, validates the options and compiles the routing rules.
func New(o Options) (*Desk, error) {
	if o.Store == nil {
		return nil, errors.New("desk: a store is required")
	}
	if o.Config == nil {
		return nil, errors.New("desk: a config is required")
	}
	if o.Jobs == nil {
		o.Jobs = func() *jobs.Client { return nil }
	}
	if o.Events == nil {
		o.Events = events.NewHub()
	}
	if o.Senders == nil {
		o.Senders = map[channels.Kind]channels.Sender{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SLAInterval <= 0 {
		o.SLAInterval = 15 * time.Second
	}
	if o.MaxSendAttempts <= 0 {
		o.MaxSendAttempts = 100
	}
	if o.Text == nil {
		t, err := templates.ParseText()
		if err != nil {
			return nil, fmt.Errorf("desk: templates: %w", err)
		}
		o.Text = t
	}
	d := &Desk{o: o, escalation: router.Escalation{Step: o.EscalationStep},
		offerTimeouts: offerTimeouts{request: offerRequestTimeout, sweep: expirySweepBudget}}
	d.available.enabled = o.Store.Dialect() == store.SQLite
	var err error
	if d.classifier, err = router.NewClassifier(o.Config.Categories); err != nil {
		return nil, fmt.Errorf("desk: %w", err)
	}
	if d.comuni, err = router.NewComuneResolver(o.Config); err != nil {
		return nil, fmt.Errorf("desk: %w", err)
	}
	if d.hours, err = router.NewHours(o.Config); err != nil {
		return nil, fmt.Errorf("desk: %w", err)
	}
	// The calendars admins edit live in the database: every replica reads them again after a
	// short TTL, so an edit anywhere reaches the closed-hours answers everywhere.
	d.hours.SetSource(StoredCalendars(o.Store), o.CalendarTTL, o.Logger)
	d.queues = router.NewQueues(o.Config.Queues)
	d.fromName, d.fromAddr = "Linea Comune", "noreply@localhost"
	if a, err := mail.ParseAddress(o.Config.Email.From); err == nil {
		d.fromAddr = strings.ToLower(a.Address)
		if a.Name != "" {
			d.fromName = a.Name
		}
	}
	d.domain = d.fromAddr[strings.LastIndexByte(d.fromAddr, '@')+1:]
	return d, nil
}

// Hours is the business-hours calendar the desk uses (the voice menu plays the closed message
// by it too).
func (d *Desk) Hours() *router.Hours { return d.hours }

// Error is an operator action refused: Status is the HTTP status the API answers with, Code a
// stable machine-readable reason (invalid_outcome, unknown_office, unreachable, self_merge,
// empty_body, forbidden, not_found, conflict, ...), Message a sentence for people.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("desk: %s: %s", e.Code, e.Message) }

func fail(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badRequest(code, format string, args ...any) *Error {
	return fail(http.StatusBadRequest, code, format, args...)
}

func notFound(what string) *Error {
	return fail(http.StatusNotFound, "not_found", "%s not found", what)
}

func forbidden(format string, args ...any) *Error {
	return fail(http.StatusForbidden, "forbidden", format, args...)
}

func conflict(format string, args ...any) *Error {
	return fail(http.StatusConflict, "conflict", format, args...)
}

// notFoundAs turns the store's not-found (missing, or outside the user's comuni) into a 404.
func notFoundAs(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound(what)
	}
	return err
}

func (d *Desk) now() time.Time { return d.o.Now().UTC() }

func (d *Desk) publish(ctx context.Context, typ, contactID string, comune *string) {
	e := events.Event{Type: typ, ContactID: contactID}
	if comune != nil {
		e.Comune = *comune
	}
	if err := d.o.Events.Publish(context.WithoutCancel(ctx), e); err != nil {
		d.o.Logger.Warn("publishing a live event failed", "type", typ, "contact", contactID, "err", err)
	}
}

func (d *Desk) count(channel, result string) {
	if d.o.Metrics != nil {
		d.o.Metrics.OutboundSent.WithLabelValues(channel, result).Inc()
	}
}

func strp(s string) *string { return &s }
