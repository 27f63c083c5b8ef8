package store

import (
	"context"
	"time"
)

// OutboxMessage is an SMS the gateway would have sent through Twilio, or a mail it would have
// handed to the relay.
type OutboxMessage struct {
	ID        string    `json:"id"`
	Channel   string    `json:"channel"`
	To        string    `json:"to"`
	From      string    `json:"from"`
	Subject   string    `json:"subject,omitempty"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// PutOutbox stores an outbound message in the local outbox and returns its id.
func (s *Store) PutOutbox(ctx context.Context, m OutboxMessage) (string, error) {
	if m.ID == "" {
		m.ID = "OB" + NewID()
	}
	err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO outbox (id, channel, to_addr, from_addr, subject, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			m.ID, m.Channel, m.To, m.From, m.Subject, m.Body, Micros(s.now()))
		return err
	})
	return m.ID, err
}

// Outbox lists the newest outbox messages.
func (s *Store) Outbox(ctx context.Context, limit int) ([]OutboxMessage, error) {
	rows, err := s.query(ctx, "SELECT id, channel, to_addr, from_addr, subject, body, created_at FROM outbox ORDER BY created_at DESC, id DESC LIMIT ?", limit)
	return Collect(rows, err, func(r rowScanner) (OutboxMessage, error) {
		var m OutboxMessage
		var created int64
		err := r.Scan(&m.ID, &m.Channel, &m.To, &m.From, &m.Subject, &m.Body, &created)
		m.CreatedAt = FromMicros(created)
		return m, err
	})
}
