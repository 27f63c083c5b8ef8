package alerts

import (
	"context"
	"time"

	"github.com/sportello/sportello/store"
)

// Lookup asks the SMS provider which messages it accepted for a number: how a send
// interrupted by a crash or a timeout is settled without sending it twice. Twilio has no
// idempotency key for messages, so the only safe evidence is the provider's own record.
type Lookup interface {
	// FindSent returns the provider ids of messages to `to` with exactly `body` accepted at or
	// after since, newest first (none: the message never reached the provider).
	FindSent(ctx context.Context, to, body string, since time.Time) ([]string, error)
}

// lookupSkew is how much earlier than our "sending" mark the provider may date a message
// (its dates have whole seconds, and clocks differ). Twilio's own lookup is
// twilio.MessageLookup, wired by the gateway.
const lookupSkew = 30 * time.Second

// OutboxLookup finds messages the local outbox kept (no Twilio credentials).
type OutboxLookup struct{ Store *store.Store }

// FindSent implements Lookup.
func (l *OutboxLookup) FindSent(ctx context.Context, to, body string, since time.Time) ([]string, error) {
	rows, err := l.Store.Query(ctx, "SELECT id FROM outbox WHERE to_addr = ? AND body = ? AND created_at >= ? ORDER BY created_at DESC",
		to, body, store.Micros(since.Add(-lookupSkew)))
	return store.Collect(rows, err, func(r interface{ Scan(...any) error }) (string, error) {
		var id string
		err := r.Scan(&id)
		return id, err
	})
}
