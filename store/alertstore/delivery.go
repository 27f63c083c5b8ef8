package alertstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/sportello/sportello/store"
)

// A provider's status callback can overtake the send's own record: Twilio may call back before
// its REST answer reaches us, and may call another replica. Such a callback is held in
// alert_early_status and applied when the sid is recorded.
//
// On SQLite every write runs after the one before, so the record's look inside its transaction
// always sees a hold already committed. On PostgreSQL the hold and the record can run side by
// side (two replicas, or two of a replica's batch loops), each missing the other's uncommitted
// row; so both sides look once more after their own commit (applyHeldAfterCommit): whichever
// commits last sees the other. A process that dies between its commit and that look leaves
// the hold to ApplyHeldStatuses, which the alerts' sweeper runs.

// deliveryFrom lists the statuses a delivery status may follow: news only moves forward.
var deliveryFrom = map[string]string{
	RecipientSent:      "('sending', 'sent')",
	RecipientDelivered: "('sending', 'sent', 'failed')",
	RecipientFailed:    "('sending', 'sent')",
}

func updateDelivery(ctx context.Context, t *store.Tx, sid, status, code string) (int64, error) {
	from, ok := deliveryFrom[status]
	if !ok {
		return 0, nil
	}
	res, err := t.Exec(ctx, "UPDATE alert_recipients SET status = ?, error_code = CASE WHEN ? = '' THEN error_code ELSE ? END, owner = NULL, updated_at = ? WHERE sid = ? AND status IN "+from,
		status, code, code, store.Micros(t.Store().Now()), sid)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// UpdateRecipientDelivery applies a provider's status callback (status: sent, delivered or
// failed) to the recipient with that sid, and returns its alert's id. A sid not (yet) known is
// held and applied when the send's result is recorded; alertID is then "" (unless the record
// committed meanwhile, and this call applied the hold itself).
func (s *Store) UpdateRecipientDelivery(ctx context.Context, sid, status, code string) (string, error) {
	alertID, held := "", false
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		alertID, held = "", false
		err := tx.QueryRow(ctx, "SELECT alert_id FROM alert_recipients WHERE sid = ?", sid).Scan(&alertID)
		if errors.Is(err, sql.ErrNoRows) {
			_, err = tx.Exec(ctx, `INSERT INTO alert_early_status (sid, status, error_code, at) VALUES (?, ?, ?, ?)
				ON CONFLICT (sid) DO UPDATE SET status = excluded.status, error_code = excluded.error_code, at = excluded.at
				WHERE alert_early_status.status = 'sent'`, sid, status, code, store.Micros(s.Now()))
			held = err == nil
			s.atCommit(stepHold)
			return err
		}
		if err != nil {
			return err
		}
		_, err = updateDelivery(ctx, tx, sid, status, code)
		return err
	})
	if err != nil || !held {
		return alertID, err
	}
	return s.applyHeldAfterCommit(ctx, []any{sid})
}

// applyEarlyStatus applies held callbacks for sids just recorded in t. It takes the holds in
// one statement and applies what it took: a hold that commits while it runs is either taken
// or left whole for the second look (a DELETE after the updates once removed a hold the
// updates had not seen).
func applyEarlyStatus(ctx context.Context, t *store.Tx, sids []any) error {
	if len(sids) == 0 {
		return nil
	}
	rows, err := t.Query(ctx, "DELETE FROM alert_early_status WHERE sid IN ("+qmarks(len(sids))+") RETURNING sid, status, error_code", sids...)
	held, err := store.Collect(rows, err, func(r interface{ Scan(...any) error }) (heldStatus, error) {
		var h heldStatus
		err := r.Scan(&h.sid, &h.status, &h.code)
		return h, err
	})
	if err != nil {
		return err
	}
	for _, h := range held {
		if _, err := updateDelivery(ctx, t, h.sid, h.status, h.code); err != nil {
			return err
		}
	}
	return nil
}

type heldStatus struct{ sid, status, code string }

// applyHeldAfterCommit is the second look, on PostgreSQL, of whoever just committed a hold or
// a record of sids: it applies the holds among sids whose sid is now recorded, and returns the
// alert of one of them ("" when none).
func (s *Store) applyHeldAfterCommit(ctx context.Context, sids []any) (string, error) {
	if len(sids) == 0 || s.Dialect() != store.Postgres {
		return "", nil
	}
	found, err := s.heldAndRecorded(ctx, "WHERE e.sid IN ("+qmarks(len(sids))+")", sids...)
	if err != nil || len(found) == 0 {
		return "", err
	}
	return found[0].alertID, s.applyHeld(ctx, found)
}

// heldSweepLimit bounds one pass of ApplyHeldStatuses.
const heldSweepLimit = 500

// ApplyHeldStatuses applies callbacks held for sids recorded since, which the second look
// missed because its process stopped between a commit and the look. It returns how many it
// found (at most heldSweepLimit a call; another replica's sweep may apply some of them first).
func (s *Store) ApplyHeldStatuses(ctx context.Context) (int, error) {
	found, err := s.heldAndRecorded(ctx, "LIMIT "+strconv.Itoa(heldSweepLimit))
	if err != nil || len(found) == 0 {
		return 0, err
	}
	return len(found), s.applyHeld(ctx, found)
}

type heldSID struct{ sid, alertID string }

// heldAndRecorded lists held callbacks whose sid is recorded; tail restricts them (a WHERE on
// e, or a LIMIT).
func (s *Store) heldAndRecorded(ctx context.Context, tail string, args ...any) ([]heldSID, error) {
	rows, err := s.Query(ctx, "SELECT e.sid, r.alert_id FROM alert_early_status e JOIN alert_recipients r ON r.sid = e.sid "+tail, args...)
	return store.Collect(rows, err, func(r interface{ Scan(...any) error }) (heldSID, error) {
		var h heldSID
		err := r.Scan(&h.sid, &h.alertID)
		return h, err
	})
}

func (s *Store) applyHeld(ctx context.Context, held []heldSID) error {
	sids := make([]any, len(held))
	for i, h := range held {
		sids[i] = h.sid
	}
	return s.Write(ctx, func(ctx context.Context, tx *store.Tx) error { return applyEarlyStatus(ctx, tx, sids) })
}

// PurgeEarlyStatus deletes callbacks held for longer than keep (they were not ours).
func (s *Store) PurgeEarlyStatus(ctx context.Context, keep time.Duration) error {
	return s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM alert_early_status WHERE at < ?", store.Micros(s.Now().Add(-keep)))
		return err
	})
}
