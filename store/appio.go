package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sportello/sportello/channels"
)

// SentAppIO is an operator's App IO message that App IO accepted and has not reported
// processed yet.
type SentAppIO struct {
	ID         string
	Comune     string // the sending service: the message's From
	FiscalCode string // the message's To
	ExternalID string // App IO's id
}

// SentAppIOMessages lists outbound App IO messages still "sent", not looked at since before,
// oldest first.
func (s *Store) SentAppIOMessages(ctx context.Context, before time.Time, limit int) ([]SentAppIO, error) {
	rows, err := s.Query(ctx, `SELECT id, from_addr, to_addr, external_id FROM messages
		WHERE channel = 'app_io' AND status = 'sent' AND direction = 'outbound' AND external_id <> '' AND updated_at < ?
		ORDER BY updated_at LIMIT ?`, Micros(before), limit)
	return Collect(rows, err, func(r rowScanner) (SentAppIO, error) {
		var m SentAppIO
		err := r.Scan(&m.ID, &m.Comune, &m.FiscalCode, &m.ExternalID)
		return m, err
	})
}

// TouchOutbound notes that an outbound message still "sent" was looked at now.
func (s *Store) TouchOutbound(ctx context.Context, id string) error {
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.Exec(ctx, "UPDATE messages SET updated_at = ? WHERE id = ? AND status = 'sent'", Micros(s.Now()), id)
		return err
	})
}

// AddIdentity gives a citizen one more identity (a fiscal code an operator typed), with its
// audit entry, in one transaction. An identity the citizen already has changes nothing
// (added false); one that belongs to another citizen is ErrConflict (merge them instead).
func (s *Store) AddIdentity(ctx context.Context, citizenID string, id channels.Identity, audit AuditEntry) (added bool, err error) {
	err = s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		added = false
		var owner string
		err := tx.QueryRow(ctx, "SELECT citizen_id FROM identities WHERE kind = ? AND value = ?", string(id.Kind), id.Value).Scan(&owner)
		switch {
		case err == nil && owner == citizenID:
			return nil
		case err == nil:
			return ErrConflict
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM citizens WHERE id = ? AND merged_into IS NULL", citizenID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		if _, err := tx.Exec(ctx, "INSERT INTO identities (kind, value, citizen_id, created_at) VALUES (?, ?, ?, ?)",
			string(id.Kind), id.Value, citizenID, Micros(s.Now())); err != nil {
			if IsUniqueViolation(err) {
				return ErrConflict
			}
			return err
		}
		added = true
		return s.AuditTx(ctx, tx, audit)
	})
	return added, err
}

// FiscalCodeOf is a citizen's fiscal code ("" when none is known).
func (s *Store) FiscalCodeOf(ctx context.Context, citizenID string) (string, error) {
	var v string
	err := s.QueryRow(ctx, "SELECT value FROM identities WHERE citizen_id = ? AND kind = ? ORDER BY created_at LIMIT 1",
		citizenID, string(channels.IdentityFiscalCode)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}
