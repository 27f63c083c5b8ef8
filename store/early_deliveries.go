package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sportello/sportello/channels"
)

// earlyDeliveryKeep is how long a held callback waits for its message's provider id. The send
// that records it is milliseconds behind; a held row older than this was about someone else's
// message after all.
const earlyDeliveryKeep = time.Hour

// ApplyOrHoldDelivery applies a provider's status callback to the outbound message with that
// provider id, like UpdateDeliveryStatus. When no message has that id yet but one of ours on
// that channel is still being sent, the callback may have beaten the send's own write (Twilio
// can call back before its REST answer reaches us, and may call another replica): it is then
// held in the database, where TakeEarlyDelivery finds it on any replica, and held=true.
//
// Races with the sender are closed by ordering: the in-flight check comes before the id lookup
// in this transaction, and the caller looks the id up again after a hold commits, while the
// sender takes the hold after its own id commits; one of the two always sees the other's write.
func (s *Store) ApplyOrHoldDelivery(ctx context.Context, ch channels.Kind, externalID, status, errText string) (contactID string, found, held bool, err error) {
	err = s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		contactID, found, held = "", false, false
		var inFlight int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM messages WHERE channel = ? AND direction = 'outbound' AND status = 'queued' AND external_id = ''",
			string(ch)).Scan(&inFlight); err != nil {
			return err
		}
		var id, prev string
		err := tx.QueryRow(ctx, "SELECT id, contact_id, status FROM messages WHERE channel = ? AND external_id = ? AND direction = 'outbound'",
			string(ch), externalID).Scan(&id, &contactID, &prev)
		switch {
		case err == nil:
			found = true
			if DeliveryRank(status) < DeliveryRank(prev) {
				return nil
			}
			_, err = tx.Exec(ctx, "UPDATE messages SET status = ?, error = CASE WHEN ? = '' THEN error ELSE ? END, updated_at = ? WHERE id = ?",
				status, errText, errText, Micros(s.now()), id)
			return err
		case !errors.Is(err, sql.ErrNoRows):
			return err
		case inFlight == 0:
			return nil // not one of ours: alerts, or another system on the account
		}
		now := s.now()
		if _, err := tx.Exec(ctx, "DELETE FROM early_deliveries WHERE at < ?", Micros(now.Add(-earlyDeliveryKeep))); err != nil {
			return err
		}
		var prevHeld string
		err = tx.QueryRow(ctx, "SELECT status FROM early_deliveries WHERE channel = ? AND external_id = ?", string(ch), externalID).Scan(&prevHeld)
		if err == nil && DeliveryRank(prevHeld) > DeliveryRank(status) {
			held = true
			return nil // a later state is already held; callbacks may come out of order
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO early_deliveries (channel, external_id, status, error, at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (channel, external_id) DO UPDATE SET status = excluded.status, error = excluded.error, at = excluded.at`,
			string(ch), externalID, status, errText, Micros(now))
		held = err == nil
		return err
	})
	return contactID, found, held, err
}

// TakeEarlyDelivery removes and returns the callback held for a provider id, if any (ok=false
// otherwise). errText is as ApplyOrHoldDelivery got it.
func (s *Store) TakeEarlyDelivery(ctx context.Context, ch channels.Kind, externalID string) (status, errText string, ok bool, err error) {
	err = s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		status, errText, ok = "", "", false
		// One statement: a callback that upgrades the hold meanwhile is either taken here or
		// left whole, never deleted unread.
		err := tx.QueryRow(ctx, "DELETE FROM early_deliveries WHERE channel = ? AND external_id = ? RETURNING status, error", string(ch), externalID).Scan(&status, &errText)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		ok = err == nil
		return err
	})
	return status, errText, ok, err
}

// HeldDelivery names a callback held for a provider id.
type HeldDelivery struct {
	Channel    channels.Kind
	ExternalID string
}

// RecordedHeldDeliveries lists up to limit held callbacks whose provider id is now recorded on
// an outbound message: the sender committed the id but stopped, or failed, before it took
// them. TakeEarlyDelivery then applies each as the sender would have.
func (s *Store) RecordedHeldDeliveries(ctx context.Context, limit int) ([]HeldDelivery, error) {
	rows, err := s.Query(ctx, `SELECT e.channel, e.external_id FROM early_deliveries e
		JOIN messages m ON m.channel = e.channel AND m.external_id = e.external_id AND m.external_id <> '' AND m.direction = 'outbound'
		LIMIT ?`, limit)
	return Collect(rows, err, func(r rowScanner) (HeldDelivery, error) {
		var h HeldDelivery
		err := r.Scan(&h.Channel, &h.ExternalID)
		return h, err
	})
}
