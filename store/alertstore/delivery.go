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

// RecipientRef names one recipient of an alert: a status callback of the fan-out's carries it
// in its address.
type RecipientRef struct {
	AlertID string
	Seq     int64
}

// updateDelivery applies a delivery status to the recipient ref names, if sid is the provider
// id recorded for it.
func updateDelivery(ctx context.Context, t *store.Tx, ref RecipientRef, sid, status, code string) (int64, error) {
	from, ok := deliveryFrom[status]
	if !ok {
		return 0, nil
	}
	res, err := t.Exec(ctx, "UPDATE alert_recipients SET status = ?, error_code = CASE WHEN ? = '' THEN error_code ELSE ? END, owner = NULL, updated_at = ? WHERE alert_id = ? AND seq = ? AND sid = ? AND status IN "+from,
		status, code, code, store.Micros(t.Store().Now()), ref.AlertID, ref.Seq, sid)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// UpdateRecipientDelivery applies a provider's status callback (status: sent, delivered or
// failed) about the message sid to the recipient ref names, and returns its alert's id. A
// callback whose send is not recorded yet is held and applied when it is; alertID is then ""
// (unless the record committed meanwhile, and this call applied the hold itself). A callback
// about another sid than the recipient's (an earlier send of it), or about a recipient that is
// gone, changes nothing and returns "".
func (s *Store) UpdateRecipientDelivery(ctx context.Context, ref RecipientRef, sid, status, code string) (string, error) {
	alertID, held := "", false
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		alertID, held = "", false
		var recorded sql.NullString
		err := tx.QueryRow(ctx, "SELECT sid FROM alert_recipients WHERE alert_id = ? AND seq = ?", ref.AlertID, ref.Seq).Scan(&recorded)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if !recorded.Valid {
			_, err = tx.Exec(ctx, `INSERT INTO alert_early_status (sid, alert_id, seq, status, error_code, at) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (sid) DO UPDATE SET status = excluded.status, error_code = excluded.error_code, at = excluded.at
				WHERE alert_early_status.status = 'sent'`, sid, ref.AlertID, ref.Seq, status, code, store.Micros(s.Now()))
			held = err == nil
			s.atCommit(stepHold)
			return err
		}
		if recorded.String != sid {
			return nil
		}
		alertID = ref.AlertID
		_, err = updateDelivery(ctx, tx, ref, sid, status, code)
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
	rows, err := t.Query(ctx, "DELETE FROM alert_early_status WHERE sid IN ("+qmarks(len(sids))+") RETURNING sid, alert_id, seq, status, error_code", sids...)
	held, err := store.Collect(rows, err, func(r interface{ Scan(...any) error }) (heldStatus, error) {
		var h heldStatus
		err := r.Scan(&h.sid, &h.ref.AlertID, &h.ref.Seq, &h.status, &h.code)
		return h, err
	})
	if err != nil {
		return err
	}
	for _, h := range held {
		if _, err := updateDelivery(ctx, t, h.ref, h.sid, h.status, h.code); err != nil {
			return err
		}
	}
	return nil
}

type heldStatus struct {
	ref               RecipientRef
	sid, status, code string
}

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
	rows, err := s.Query(ctx, "SELECT e.sid, r.alert_id FROM alert_early_status e JOIN alert_recipients r ON r.alert_id = e.alert_id AND r.seq = e.seq AND r.sid = e.sid "+tail, args...)
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
