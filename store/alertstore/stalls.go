package alertstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sportello/sportello/store"
)

// Stall is a change in whether an alert progresses, found by CheckStalls.
type Stall struct {
	AlertID string
	Comune  string
	// Stalled is true when the alert just stalled (Reason says why), false when it resumed
	// or ended.
	Stalled bool
	Reason  string
	// Since is the alert's last progress.
	Since time.Time
}

// RecordBatchError keeps the last error a batch's worker met, for a stall's reason. It does
// not renew the batch's lease: an error is not progress.
func (s *Store) RecordBatchError(ctx context.Context, alertID string, batch int, msg string) error {
	return s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE alert_batches SET last_error = ? WHERE alert_id = ? AND batch = ?", store.ErrorText(msg), alertID, batch)
		return err
	})
}

// progressOf is an alert's last progress: the last time a recipient reached an outcome (sent or
// failed for good), or its start.
const progressOf = `COALESCE((SELECT MAX(b.progress_at) FROM alert_batches b WHERE b.alert_id = alerts.id), started_at, created_at)`

// noteProgress records that recipients of an alert's batch reached an outcome. It is given the
// batch, not the recipients: finding a batch from its recipients' seqs made SQLite (without
// statistics) scan the alert's whole covering index, every chunk — a fifth of the gateway's CPU
// during a 100,000-recipient fan-out, measured. The batch's last error is cleared: a batch that
// moves again is not stuck on it, and a later stall must not be explained by it.
func noteProgress(ctx context.Context, tx *store.Tx, alertID string, batch int) error {
	_, err := tx.Exec(ctx, "UPDATE alert_batches SET progress_at = ?, last_error = '' WHERE alert_id = ? AND batch = ?",
		store.Micros(tx.Store().Now()), alertID, batch)
	return err
}

// CheckStalls marks sending alerts without progress since stallBefore as stalled, with a
// reason, and clears the mark of alerts that progressed again or ended. Each change is
// returned once across every replica (the updates are conditional), so it is logged once.
func (s *Store) CheckStalls(ctx context.Context, stallBefore time.Time, live Liveness) ([]Stall, error) {
	var out []Stall
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		out = out[:0]
		now := store.Micros(s.Now())
		type cand struct {
			id, comune string
			progress   int64
			stalledAt  sql.NullInt64
		}
		rows, err := tx.Query(ctx, `SELECT id, comune, `+progressOf+`, stalled_at FROM alerts
			WHERE status = 'sending' OR stalled_at IS NOT NULL`)
		cands, err := store.Collect(rows, err, func(r interface{ Scan(...any) error }) (cand, error) {
			var c cand
			err := r.Scan(&c.id, &c.comune, &c.progress, &c.stalledAt)
			return c, err
		})
		if err != nil {
			return err
		}
		var stalled, resumed []cand
		for _, c := range cands {
			switch {
			case !c.stalledAt.Valid && c.progress < store.Micros(stallBefore):
				stalled = append(stalled, c)
			case c.stalledAt.Valid && c.progress > c.stalledAt.Int64:
				resumed = append(resumed, c)
			}
		}
		// Ended alerts (sent, cancelled, expired) are not stalled any more.
		rows, err = tx.Query(ctx, "SELECT id, comune FROM alerts WHERE stalled_at IS NOT NULL AND status <> 'sending'")
		ended, err := store.Collect(rows, err, func(r interface{ Scan(...any) error }) (cand, error) {
			var c cand
			err := r.Scan(&c.id, &c.comune)
			return c, err
		})
		if err != nil {
			return err
		}
		resumed = append(resumed, ended...)
		for _, c := range stalled {
			reason, err := stallReason(ctx, tx, c.id, live)
			if err != nil {
				return err
			}
			res, err := tx.Exec(ctx, "UPDATE alerts SET stalled_at = ?, stall_reason = ? WHERE id = ? AND stalled_at IS NULL AND status = 'sending'",
				now, reason, c.id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				out = append(out, Stall{AlertID: c.id, Comune: c.comune, Stalled: true, Reason: reason, Since: store.FromMicros(c.progress)})
			}
		}
		for _, c := range resumed {
			res, err := tx.Exec(ctx, "UPDATE alerts SET stalled_at = NULL, stall_reason = '' WHERE id = ? AND stalled_at IS NOT NULL", c.id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				out = append(out, Stall{AlertID: c.id, Comune: c.comune, Since: store.FromMicros(c.progress)})
			}
		}
		return nil
	})
	return out, err
}

// stallReason explains why an alert does not progress, from what its batches say.
func stallReason(ctx context.Context, tx *store.Tx, alertID string, live Liveness) (string, error) {
	var batch int
	var msg string
	err := tx.QueryRow(ctx, "SELECT batch, last_error FROM alert_batches WHERE alert_id = ? AND status <> 'done' AND last_error <> '' ORDER BY updated_at DESC LIMIT 1",
		alertID).Scan(&batch, &msg)
	if err == nil {
		return fmt.Sprintf("batch %d: %s", batch, msg), nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	var held, waiting, sending int
	if err := tx.QueryRow(ctx, `SELECT
		COALESCE(SUM(CASE WHEN status = 'running' AND `+heldBatch+` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status <> 'done' THEN 1 ELSE 0 END), 0) FROM alert_batches WHERE alert_id = ?`,
		append(live.args(), alertID)...).Scan(&held, &waiting); err != nil {
		return "", err
	}
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM alert_recipients WHERE alert_id = ? AND status = 'sending'", alertID).Scan(&sending); err != nil {
		return "", err
	}
	switch {
	case held > 0:
		return fmt.Sprintf("%d batch(es) held by live workers that make no progress", held), nil
	case waiting > 0 && sending > 0:
		return fmt.Sprintf("%d interrupted send(s) wait to be checked with the provider", sending), nil
	case waiting > 0:
		return fmt.Sprintf("%d batch(es) wait for a fan-out worker: are the job workers running?", waiting), nil
	}
	return "no batch is left to send, yet the alert is not finished", nil
}

// CountStalled counts alerts marked stalled.
func (s *Store) CountStalled(ctx context.Context) (int, error) {
	var n int
	err := s.QueryRow(ctx, "SELECT COUNT(*) FROM alerts WHERE stalled_at IS NOT NULL").Scan(&n)
	return n, err
}

// StrandedBatches lists pending batches of sending alerts that nobody touched since
// leaseBefore (the caller's bound) and that no River job waits for: their job was lost (its completion failed
// when the database went away, and River would rescue it only after an hour).
func (s *Store) StrandedBatches(ctx context.Context, leaseBefore time.Time, limit int) ([]Recipient, error) {
	match := "j.args->>'alert_id' = b.alert_id AND (j.args->>'batch')::bigint = b.batch"
	if s.Dialect() == store.SQLite {
		match = "json_extract(j.args, '$.alert_id') = b.alert_id AND json_extract(j.args, '$.batch') = b.batch"
	}
	rows, err := s.Query(ctx, `SELECT b.alert_id, b.batch FROM alert_batches b JOIN alerts a ON a.id = b.alert_id
		WHERE b.status = 'pending' AND a.status = 'sending' AND b.updated_at < ?
		AND NOT EXISTS (SELECT 1 FROM river_job j WHERE j.kind = 'alert_fanout' AND j.state IN ('available', 'pending', 'retryable', 'scheduled') AND `+match+`)
		ORDER BY b.updated_at LIMIT ?`, store.Micros(leaseBefore), limit)
	return store.Collect(rows, err, scanBatchRef)
}

// RequeueStrandedBatch gives a stranded batch a new job, once: the batch's updated_at moves,
// so no other replica requeues it again before another lease passed.
func (s *Store) RequeueStrandedBatch(ctx context.Context, alertID string, batch int, leaseBefore time.Time, enqueue Enqueuer) (bool, error) {
	done := false
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		done = false
		res, err := tx.Exec(ctx, "UPDATE alert_batches SET updated_at = ? WHERE alert_id = ? AND batch = ? AND status = 'pending' AND updated_at < ?",
			store.Micros(s.Now()), alertID, batch, store.Micros(leaseBefore))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		done = true
		return enqueue(ctx, tx, alertID, []int{batch})
	})
	return done, err
}
