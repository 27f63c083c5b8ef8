package alertstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/store"
)

// The fan-out's durable state machine. A recipient goes queued -> sending -> sent/failed
// (then delivered/failed by status callbacks). "sending" is committed before the provider is
// called and names the process (owner) doing it; a process that dies leaves its "sending"
// recipients behind, and only a check with the provider decides whether they were handed over.

// Recipient is one recipient claimed for sending.
type Recipient struct {
	AlertID   string
	Seq       int64
	Batch     int
	Phone     string
	Lang      string
	Owner     string
	ClaimedAt time.Time
	// FiscalCode is the subscriber's codice fiscale ("" = none): App IO reaches them by it.
	FiscalCode string
}

// Send outcomes recorded by RecordSendResults.
const (
	OutcomeSent      = "sent"      // the provider accepted it: SID set
	OutcomeFailed    = "failed"    // refused for good (invalid number, unsubscribed...)
	OutcomeRetry     = "retry"     // refused for now (429, 5xx): back to queued
	OutcomeUncertain = "uncertain" // no answer (timeout, broken connection): may have been accepted
)

// SendResult is what became of one claimed recipient.
type SendResult struct {
	Seq       int64
	Outcome   string
	SID       string
	ErrorCode string
	Error     string
	// OptOut turns the number off everywhere (Twilio 21610: the handset said STOP to the carrier).
	OptOut bool
	Phone  string
	// Channel is the channel the recipient was reached (or last tried) on: ChannelSMS,
	// ChannelAppIO; "" leaves it as it was.
	Channel string
	// ClaimedAt names the claim this answers (Recipient.ClaimedAt). A result is written only to
	// that claim: the owner is the process, and another worker of the same process may have
	// claimed the recipient again (after the orphan sweep queued it) and be sending it; a late
	// answer to the old claim must not queue it again (it would go out twice), fail it or
	// drop its owner.
	ClaimedAt time.Time
}

// Heartbeat records that a sender process is alive.
func (s *Store) Heartbeat(ctx context.Context, senderID string) error {
	return s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := store.Micros(s.Now())
		_, err := tx.Exec(ctx, `INSERT INTO alert_senders (id, started_at, heartbeat_at) VALUES (?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`, senderID, now, now)
		return err
	})
}

// RemoveSender forgets a sender that stopped cleanly, and senders dead for longer than keep.
func (s *Store) RemoveSender(ctx context.Context, senderID string, keep time.Duration) error {
	return s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM alert_senders WHERE id = ? OR heartbeat_at < ?", senderID, store.Micros(s.Now().Add(-keep)))
		return err
	})
}

// liveOwner is true for rows owned by a sender whose heartbeat is recent.
const liveOwner = "owner IN (SELECT id FROM alert_senders WHERE heartbeat_at >= ?)"

// heldBatch is true for a batch a live sender works and has made progress on lately: a
// batch's lease (its updated_at) is renewed by progress, not by the heartbeat, so a process
// that is alive but stuck (a hung call, a worker that died inside a live process) loses it.
const heldBatch = "(owner IS NOT NULL AND " + liveOwner + " AND updated_at >= ?)"

// ErrLeaseLost is returned to a batch's worker that no longer holds the batch: it made no
// progress for too long and another worker may have taken it over. It must stop at once.
var ErrLeaseLost = errors.New("alertstore: the batch's lease was lost")

// Liveness says which owners still count: StaleBefore is the heartbeat age that makes a
// process dead, LeaseBefore the last progress that makes a batch (and the recipients it
// claimed) abandoned even by a live process. A zero LeaseBefore never expires a lease.
type Liveness struct {
	StaleBefore time.Time
	LeaseBefore time.Time
}

func (l Liveness) args() []any {
	return []any{store.Micros(l.StaleBefore), store.Micros(l.LeaseBefore)}
}

// BatchLease is one worker's hold on a batch. Owner is the worker's process: its heartbeat
// says whether the lease's holder is alive, and it owns the recipients the worker claims. ID
// names this one claim: a process runs many workers, and River may run a batch's job again
// while its first run still works the batch, so the process alone cannot tell the holder from
// a second worker that must keep off.
type BatchLease struct {
	Owner string
	ID    string
}

// ClaimAlertBatch makes a new worker of process owner the holder of a batch, unless the batch
// is done or is held: a live process's worker made progress on it within the lease (see
// Liveness), and that includes a worker of the same process. ok is false when it is held. A
// live holder is refused rather than taken over: it is making progress, and a takeover would
// leave two workers sending the batch until the first noticed at its next renewal; a holder
// that stopped making progress loses the batch after the lease anyway.
func (s *Store) ClaimAlertBatch(ctx context.Context, alertID string, batch int, owner string, live Liveness) (lease BatchLease, ok bool, err error) {
	lease = BatchLease{Owner: owner, ID: store.NewID()}
	err = s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE alert_batches SET owner = ?, lease_id = ?, status = 'running', updated_at = ?
			WHERE alert_id = ? AND batch = ? AND status <> 'done' AND (owner IS NULL OR NOT `+heldBatch+`)`,
			append([]any{lease.Owner, lease.ID, store.Micros(s.Now()), alertID, batch}, live.args()...)...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return err
	})
	if err != nil || !ok {
		return BatchLease{}, false, err
	}
	return lease, true, nil
}

// RenewBatchLease records progress on a batch under lease; false when the lease is lost.
func (s *Store) RenewBatchLease(ctx context.Context, alertID string, batch int, lease BatchLease) (bool, error) {
	held := false
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		held, err = renewLease(ctx, tx, alertID, batch, lease)
		return err
	})
	return held, err
}

func renewLease(ctx context.Context, tx *store.Tx, alertID string, batch int, lease BatchLease) (bool, error) {
	res, err := tx.Exec(ctx, "UPDATE alert_batches SET updated_at = ? WHERE alert_id = ? AND batch = ? AND lease_id = ? AND status = 'running'",
		store.Micros(tx.Store().Now()), alertID, batch, lease.ID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseAlertBatch gives a batch back (a stopping process, a job that will be retried), if
// the lease still holds it.
func (s *Store) ReleaseAlertBatch(ctx context.Context, alertID string, batch int, lease BatchLease) error {
	return s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE alert_batches SET owner = NULL, lease_id = NULL, status = 'pending', updated_at = ? WHERE alert_id = ? AND batch = ? AND lease_id = ?",
			store.Micros(s.Now()), alertID, batch, lease.ID)
		return err
	})
}

// QueuedInBatch lists up to limit queued recipients of a batch, in order.
func (s *Store) QueuedInBatch(ctx context.Context, alertID string, batch, limit int) ([]int64, error) {
	rows, err := s.Query(ctx, "SELECT seq FROM alert_recipients WHERE alert_id = ? AND batch = ? AND status = 'queued' ORDER BY seq LIMIT ?",
		alertID, batch, limit)
	return store.Collect(rows, err, func(r interface{ Scan(...any) error }) (int64, error) {
		var seq int64
		err := r.Scan(&seq)
		return seq, err
	})
}

// ClaimRecipients marks queued recipients "sending" by the lease's owner, and commits that
// before returning: only the recipients returned may be handed to the provider. Recipients
// whose number said STOP meanwhile are cancelled instead; nothing is claimed unless the alert
// is still sending and not expired. Claiming renews the lease; a worker that lost it gets
// ErrLeaseLost and claims nothing.
func (s *Store) ClaimRecipients(ctx context.Context, alertID string, batch int, seqs []int64, lease BatchLease) ([]Recipient, error) {
	if len(seqs) == 0 {
		return nil, nil
	}
	var out []Recipient
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		out = out[:0]
		now := s.Now()
		held, err := renewLease(ctx, tx, alertID, batch, lease)
		if err != nil {
			return err
		}
		if !held {
			return ErrLeaseLost
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM alerts WHERE id = ? AND status = 'sending' AND (expires_at IS NULL OR expires_at > ?)",
			alertID, store.Micros(now)).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		inSeqs, seqArgs := seqsIn(seqs)
		args := append([]any{store.Micros(now), alertID, batch}, seqArgs...)
		where := `alert_id = ? AND batch = ? AND ` + inSeqs + ` AND status = 'queued'`
		if _, err := tx.Exec(ctx, `UPDATE alert_recipients SET status = 'cancelled', error = 'stop', updated_at = ?
			WHERE `+where+` AND phone IN (SELECT phone FROM sms_optouts)`, args...); err != nil {
			return err
		}
		cargs := append([]any{lease.Owner, store.Micros(now), store.Micros(now)}, args[1:]...)
		rows, err := tx.Query(ctx, `UPDATE alert_recipients SET status = 'sending', owner = ?, claimed_at = ?, updated_at = ?, attempts = attempts + 1
			WHERE `+where+` RETURNING seq, batch, phone, lang, fiscal_code`, cargs...)
		out, err = store.Collect(rows, err, func(row interface{ Scan(...any) error }) (Recipient, error) {
			r := Recipient{AlertID: alertID, Owner: lease.Owner, ClaimedAt: store.FromMicros(store.Micros(now))}
			err := row.Scan(&r.Seq, &r.Batch, &r.Phone, &r.Lang, &r.FiscalCode)
			return r, err
		})
		return err
	})
	return out, err
}

// RecordSendResults writes what became of claimed recipients of one batch, in one transaction. Status
// callbacks that overtook the result are applied. A result for a recipient no longer
// "sending" by owner is ignored (a crash resolution got there first), except an accepted send
// whose recipient was put back in the queue: it is recorded sent, so it is not sent again.
// Recipients put back in the queue are sent by someone: see requeued (enqueue gives a batch
// reopened there its job).
func (s *Store) RecordSendResults(ctx context.Context, alertID string, batch int, owner string, results []SendResult, enqueue Enqueuer) error {
	if len(results) == 0 {
		return nil
	}
	var sids []any
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := lockForResults(ctx, tx, alertID, batch, results); err != nil {
			return err
		}
		now := store.Micros(s.Now())
		var err error
		if sids, err = recordSent(ctx, tx, alertID, owner, now, results); err != nil {
			return err
		}
		if err := recordChannels(ctx, tx, alertID, results); err != nil {
			return err
		}
		requeue := int64(0)
		for _, r := range results {
			n, err := recordUnsent(ctx, tx, alertID, owner, now, r)
			if err != nil {
				return err
			}
			requeue += n
		}
		if requeue > 0 {
			if err := requeued(ctx, tx, alertID, batch, enqueue); err != nil {
				return err
			}
		}
		if err := applyEarlyStatus(ctx, tx, sids); err != nil {
			return err
		}
		s.atCommit(stepRecord)
		return nil
	})
	if err != nil {
		return err
	}
	_, err = s.applyHeldAfterCommit(ctx, sids)
	return err
}

// seqsIn is the condition "seq in seqs" for a statement on an alert's recipients, and its
// arguments; seqs must not be empty. It gives the list's range as well, so that PostgreSQL
// searches the index for just these seqs whatever its statistics: without them (a new alert's
// id is in none) it planned the list as a filter over every recipient of the alert or its
// batch, and each chunk read the whole batch (BenchmarkSendChunk at 10,000: 424 µs a
// recipient). recordSent joins its seqs from VALUES and bounds them by the same range.
func seqsIn(seqs []int64) (string, []any) {
	args := make([]any, 0, len(seqs)+2)
	args = append(args, slices.Min(seqs), slices.Max(seqs))
	for _, q := range seqs {
		args = append(args, q)
	}
	return "seq BETWEEN ? AND ? AND seq IN (" + qmarks(len(seqs)) + ")", args
}

// recordSent records the accepted sends, the bulk, in one statement, and returns their sids.
func recordSent(ctx context.Context, tx *store.Tx, alertID, owner string, now int64, results []SendResult) ([]any, error) {
	var sids []any
	var sent []SendResult
	for _, r := range results {
		if r.Outcome == OutcomeSent {
			sent = append(sent, r)
			sids = append(sids, r.SID)
		}
	}
	if len(sent) == 0 {
		return nil, nil
	}
	// One row of values a recipient, joined by seq: two CASE lists of every seq made each row
	// compare against the whole chunk.
	var b strings.Builder
	args := make([]any, 0, 3*len(sent)+6)
	b.WriteString("UPDATE alert_recipients SET status = 'sent', owner = NULL, updated_at = ?, sid = v.column2 FROM (VALUES ")
	args = append(args, now)
	seqs := make([]int64, len(sent))
	for i, r := range sent {
		if i > 0 {
			b.WriteByte(',')
		}
		// Typed: PostgreSQL would make untyped parameters in VALUES text.
		b.WriteString("(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT))")
		args = append(args, r.Seq, r.SID, store.Micros(r.ClaimedAt))
		seqs[i] = r.Seq
	}
	// A recipient the crash sweep already put back in the queue (this process looked
	// dead for a while) is taken back: the provider has it, it must not go out again.
	b.WriteString(") AS v WHERE alert_recipients.alert_id = ? AND alert_recipients.seq BETWEEN ? AND ? AND alert_recipients.seq = v.column1" +
		" AND ((alert_recipients.status = 'sending' AND alert_recipients.owner = ? AND alert_recipients.claimed_at = v.column3) OR alert_recipients.status = 'queued')")
	args = append(args, alertID, slices.Min(seqs), slices.Max(seqs), owner)
	_, err := tx.Exec(ctx, b.String(), args...)
	return sids, err
}

// recordUnsent records one result that was not an accepted send, and returns how many
// recipients it put back in the queue (0 or 1).
func recordUnsent(ctx context.Context, tx *store.Tx, alertID, owner string, now int64, r SendResult) (int64, error) {
	var res sql.Result
	var err error
	switch r.Outcome {
	case OutcomeSent:
		return 0, nil
	case OutcomeFailed:
		_, err = tx.Exec(ctx, "UPDATE alert_recipients SET status = 'failed', owner = NULL, error_code = ?, error = ?, updated_at = ? WHERE alert_id = ? AND seq = ? AND status = 'sending' AND owner = ? AND claimed_at = ?",
			r.ErrorCode, store.ErrorText(r.Error), now, alertID, r.Seq, owner, store.Micros(r.ClaimedAt))
	case OutcomeRetry:
		res, err = tx.Exec(ctx, "UPDATE alert_recipients SET status = 'queued', owner = NULL, claimed_at = NULL, error_code = ?, error = ?, updated_at = ? WHERE alert_id = ? AND seq = ? AND status = 'sending' AND owner = ? AND claimed_at = ?",
			r.ErrorCode, store.ErrorText(r.Error), now, alertID, r.Seq, owner, store.Micros(r.ClaimedAt))
	case OutcomeUncertain:
		// Left "sending" without an owner: the orphan sweep asks the provider.
		_, err = tx.Exec(ctx, "UPDATE alert_recipients SET owner = NULL, error = ?, updated_at = ? WHERE alert_id = ? AND seq = ? AND status = 'sending' AND owner = ? AND claimed_at = ?",
			store.ErrorText(r.Error), now, alertID, r.Seq, owner, store.Micros(r.ClaimedAt))
	default:
		err = errors.New("store: unknown send outcome " + r.Outcome)
	}
	if err != nil {
		return 0, err
	}
	if r.OptOut && r.Phone != "" {
		if _, err := OptOut(ctx, tx, r.Phone, ConsentActor{Via: ViaCarrier, Actor: "twilio"}, "Twilio error "+r.ErrorCode); err != nil {
			return 0, err
		}
	}
	if res == nil {
		return 0, nil
	}
	return res.RowsAffected()
}

// lockForResults takes the row locks the results need before any recipient's row: the batch's
// first, as FinishAlertBatch and ResolveOrphan do, and the alert's before recipients', as
// endAlert does, so that on PostgreSQL no two of them wait for each other's locks. Noting
// progress, which the results need anyway, takes the batch's; results that may put a recipient
// back in the queue take it in any case, so that requeued and a FinishAlertBatch at the same
// moment cannot miss each other, and take the alert's too, so that requeued reads the alert's
// status as a concurrent endAlert leaves it (and cancels what it would have cancelled).
func lockForResults(ctx context.Context, tx *store.Tx, alertID string, batch int, results []SendResult) error {
	progress, requeue := false, false
	for _, r := range results {
		progress = progress || r.Outcome == OutcomeSent || r.Outcome == OutcomeFailed
		requeue = requeue || r.Outcome == OutcomeRetry
	}
	var err error
	switch {
	case progress:
		err = noteProgress(ctx, tx, alertID, batch)
	case requeue:
		err = lockBatch(ctx, tx, alertID, batch)
	}
	if err != nil || !requeue {
		return err
	}
	return lockAlert(ctx, tx, alertID)
}

// requeued makes sure recipients of a batch just put back in the queue will be sent. Their
// worker may write its results after it lost its lease (slow, not dead): by then another
// worker may have finished the batch, which looks only for queued recipients, and the alert
// may have ended "sent". Nobody would claim them again, and the alert would count them neither
// sent nor failed. So a finished batch is reopened with a job, like a batch the orphan sweep
// requeues into (the one rule: whoever puts a recipient back in the queue makes sure its batch
// is open). The alternatives are worse: refusing the requeue once the lease is lost leaves the
// recipient "sending" for the orphan sweep, which then asks the provider about a send known
// not to have happened (or, without a lookup, records it failed); not finishing a batch while
// another's claims are "sending" keeps its worker waiting on a worker that may never answer.
// A batch still open needs nothing: its worker, or its pending job, finds them. If the alert
// was cancelled or expired meanwhile they are cancelled, as its end cancelled the queue.
func requeued(ctx context.Context, tx *store.Tx, alertID string, batch int, enqueue Enqueuer) error {
	var st string
	if err := tx.QueryRow(ctx, "SELECT status FROM alerts WHERE id = ?", alertID).Scan(&st); err != nil {
		return err
	}
	if st == AlertSending || st == AlertSent {
		return reopenWhere(ctx, tx, alertID, batch, "status = 'done'", nil, enqueue)
	}
	_, err := tx.Exec(ctx, "UPDATE alert_recipients SET status = 'cancelled', error = ?, updated_at = ? WHERE alert_id = ? AND batch = ? AND status = 'queued'",
		st, store.Micros(tx.Store().Now()), alertID, batch)
	return err
}

// FinishAlertBatch marks a batch done when none of its recipients is queued any more, and the
// alert sent when every batch is done. It returns false while queued recipients remain. A
// batch another worker holds meanwhile is left to that worker (true: this one has nothing left
// to do).
func (s *Store) FinishAlertBatch(ctx context.Context, alertID string, batch int, lease BatchLease) (bool, error) {
	done := false
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		done = false
		if err := lockBatch(ctx, tx, alertID, batch); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM alert_recipients WHERE alert_id = ? AND batch = ? AND status = 'queued'", alertID, batch).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			var st string
			if err := tx.QueryRow(ctx, "SELECT status FROM alerts WHERE id = ?", alertID).Scan(&st); err != nil {
				return err
			}
			if st == AlertSending {
				return nil
			}
		}
		now := store.Micros(s.Now())
		if _, err := tx.Exec(ctx, "UPDATE alert_batches SET status = 'done', owner = NULL, lease_id = NULL, updated_at = ? WHERE alert_id = ? AND batch = ? AND (lease_id = ? OR owner IS NULL)",
			now, alertID, batch, lease.ID); err != nil {
			return err
		}
		done = true
		return finishAlertIfDone(ctx, tx, alertID)
	})
	return done, err
}

// lockBatch takes a batch's row lock until the transaction ends. On PostgreSQL (READ
// COMMITTED) a batch found empty and marked done, and a recipient of it put back in the queue
// by the crash sweep at the same moment, would otherwise each miss the other: the alert would
// end "sent" with a recipient still queued (seen in the replica-kill test). SQLite has one
// writer, and this is a no-op there.
func lockBatch(ctx context.Context, t *store.Tx, alertID string, batch int) error {
	_, err := t.Exec(ctx, "UPDATE alert_batches SET status = status WHERE alert_id = ? AND batch = ?", alertID, batch)
	return err
}

// lockAlert takes an alert's row lock until the transaction ends (a no-op on SQLite, as
// lockBatch).
func lockAlert(ctx context.Context, t *store.Tx, alertID string) error {
	_, err := t.Exec(ctx, "UPDATE alerts SET status = status WHERE id = ?", alertID)
	return err
}

func finishAlertIfDone(ctx context.Context, t *store.Tx, alertID string) error {
	// Two batches finishing together must not each see the other still open.
	if err := lockAlert(ctx, t, alertID); err != nil {
		return err
	}
	var open int
	if err := t.QueryRow(ctx, "SELECT COUNT(*) FROM alert_batches WHERE alert_id = ? AND status <> 'done'", alertID).Scan(&open); err != nil {
		return err
	}
	if open > 0 {
		return nil
	}
	now := store.Micros(t.Store().Now())
	// An alert whose audience is still being written is not done (prepareChunk calls this
	// again when it writes the last chunk).
	_, err := t.Exec(ctx, "UPDATE alerts SET status = 'sent', finished_at = ?, updated_at = ? WHERE id = ? AND status = 'sending' AND prepare_cursor IS NULL", now, now, alertID)
	return err
}

// Orphans lists recipients left "sending", claimed before settledBefore: by a process that died
// (no heartbeat since StaleBefore), released without an answer from the provider, or claimed
// before LeaseBefore by a process that is alive but never recorded the outcome (a worker stuck
// or failed after the send: one send's answer takes far less than a lease).
func (s *Store) Orphans(ctx context.Context, live Liveness, settledBefore time.Time, limit int) ([]Recipient, error) {
	rows, err := s.Query(ctx, `SELECT alert_id, seq, batch, phone, lang, COALESCE(owner, ''), claimed_at, fiscal_code FROM alert_recipients
		WHERE status = 'sending' AND claimed_at < ? AND (owner IS NULL OR NOT `+liveOwner+` OR claimed_at < ?) ORDER BY claimed_at LIMIT ?`,
		store.Micros(settledBefore), store.Micros(live.StaleBefore), store.Micros(live.LeaseBefore), limit)
	return store.Collect(rows, err, func(row interface{ Scan(...any) error }) (Recipient, error) {
		var r Recipient
		var claimed sql.NullInt64
		err := row.Scan(&r.AlertID, &r.Seq, &r.Batch, &r.Phone, &r.Lang, &r.Owner, &claimed, &r.FiscalCode)
		if claimed.Valid {
			r.ClaimedAt = store.FromMicros(claimed.Int64)
		}
		return r, err
	})
}

// ResolveOrphan settles a recipient left "sending": with a sid, the provider had it (sent);
// without, it never reached the provider and is queued again, its batch reopened and a job
// enqueued unless a live process still works the batch. It does nothing if the recipient
// changed since it was listed.
func (s *Store) ResolveOrphan(ctx context.Context, r Recipient, sid string, live Liveness, enqueue Enqueuer) error {
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := lockBatch(ctx, tx, r.AlertID, r.Batch); err != nil {
			return err
		}
		now := store.Micros(s.Now())
		var res sql.Result
		var err error
		if sid != "" {
			res, err = tx.Exec(ctx, "UPDATE alert_recipients SET status = 'sent', owner = NULL, sid = ?, error = '', updated_at = ? WHERE alert_id = ? AND seq = ? AND status = 'sending' AND claimed_at = ?",
				sid, now, r.AlertID, r.Seq, store.Micros(r.ClaimedAt))
		} else {
			res, err = tx.Exec(ctx, "UPDATE alert_recipients SET status = 'queued', owner = NULL, claimed_at = NULL, updated_at = ? WHERE alert_id = ? AND seq = ? AND status = 'sending' AND claimed_at = ?",
				now, r.AlertID, r.Seq, store.Micros(r.ClaimedAt))
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if sid != "" {
			if err := noteProgress(ctx, tx, r.AlertID, r.Batch); err != nil {
				return err
			}
			return applyEarlyStatus(ctx, tx, []any{sid})
		}
		return reopenBatch(ctx, tx, r.AlertID, r.Batch, live, enqueue)
	})
	if err != nil || sid == "" {
		return err
	}
	_, err = s.applyHeldAfterCommit(ctx, []any{sid})
	return err
}

// FailOrphan settles a recipient left "sending" when the provider cannot be asked: it is
// recorded failed with the reason, never resent blindly.
func (s *Store) FailOrphan(ctx context.Context, r Recipient, reason string) error {
	return s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE alert_recipients SET status = 'failed', owner = NULL, error_code = 'unknown', error = ?, updated_at = ? WHERE alert_id = ? AND seq = ? AND status = 'sending' AND claimed_at = ?",
			store.ErrorText(reason), store.Micros(s.Now()), r.AlertID, r.Seq, store.Micros(r.ClaimedAt))
		return err
	})
}

// KnownSIDs reports which of these provider ids of messages to phone are already recorded for
// some recipient (of any alert) with that phone.
func (s *Store) KnownSIDs(ctx context.Context, phone string, sids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(sids) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(sids)+1)
	args = append(args, phone)
	for _, v := range sids {
		args = append(args, v)
	}
	rows, err := s.Query(ctx, "SELECT sid FROM alert_recipients WHERE phone = ? AND sid IN ("+qmarks(len(sids))+")", args...)
	known, err := store.Collect(rows, err, scanString)
	if err != nil {
		return nil, err
	}
	for _, sid := range known {
		out[sid] = true
	}
	return out, nil
}

// reopenBatch makes sure someone will send a batch's queued recipients: a worker holding the
// batch will find them itself; otherwise the batch is pending again and gets a new job.
func reopenBatch(ctx context.Context, t *store.Tx, alertID string, batch int, live Liveness, enqueue Enqueuer) error {
	return reopenWhere(ctx, t, alertID, batch, "(status = 'done' OR (owner IS NOT NULL AND NOT "+heldBatch+"))", live.args(), enqueue)
}

// reopenWhere makes a batch pending again with a new job, and its alert sending again, if the
// batch matches cond (with its args).
func reopenWhere(ctx context.Context, t *store.Tx, alertID string, batch int, cond string, args []any, enqueue Enqueuer) error {
	now := store.Micros(t.Store().Now())
	res, err := t.Exec(ctx, `UPDATE alert_batches SET status = 'pending', owner = NULL, lease_id = NULL, updated_at = ?
		WHERE alert_id = ? AND batch = ? AND `+cond, append([]any{now, alertID, batch}, args...)...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if _, err := t.Exec(ctx, "UPDATE alerts SET status = 'sending', finished_at = NULL, updated_at = ? WHERE id = ? AND status = 'sent'", now, alertID); err != nil {
		return err
	}
	if enqueue != nil {
		return enqueue(ctx, t, alertID, []int{batch})
	}
	return nil
}

// AbandonedBatches lists batches a dead process was working (their jobs died with it), and
// batches whose worker made no progress within the lease.
func (s *Store) AbandonedBatches(ctx context.Context, live Liveness, limit int) ([]Recipient, error) {
	rows, err := s.Query(ctx, `SELECT alert_id, batch FROM alert_batches WHERE status = 'running' AND owner IS NOT NULL AND NOT `+heldBatch+`
		ORDER BY updated_at LIMIT ?`, append(live.args(), limit)...)
	return store.Collect(rows, err, scanBatchRef)
}

// ReopenAbandonedBatch gives an abandoned batch a new job.
func (s *Store) ReopenAbandonedBatch(ctx context.Context, alertID string, batch int, live Liveness, enqueue Enqueuer) error {
	return s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return reopenBatch(ctx, tx, alertID, batch, live, enqueue)
	})
}

// ReserveSendSlots takes n consecutive send slots of the deployment-wide schedule named key,
// interval apart, and returns the first slot's time. The schedule never runs more than horizon
// ahead of now: when it would, nothing is reserved and wait says how long to wait before trying
// again. Every replica reserves from the same row, so together they never exceed the rate.
func (s *Store) ReserveSendSlots(ctx context.Context, key string, n int, interval, horizon time.Duration) (time.Time, time.Duration, error) {
	var start time.Time
	var wait time.Duration
	err := s.WriteAlone(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := s.Now()
		nowUS := store.Micros(now)
		span := int64(n) * interval.Microseconds()
		if span == 0 {
			span = int64(n) * interval.Nanoseconds() / 1000
		}
		if _, err := tx.Exec(ctx, "INSERT INTO alert_pacer (id, next_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", key, nowUS); err != nil {
			return err
		}
		var next int64
		err := tx.QueryRow(ctx, `UPDATE alert_pacer SET next_at = CASE WHEN next_at > ? THEN next_at ELSE ? END + ?
			WHERE id = ? AND next_at <= ? RETURNING next_at`, nowUS, nowUS, span, key, nowUS+horizon.Microseconds()).Scan(&next)
		if errors.Is(err, sql.ErrNoRows) {
			if err := tx.QueryRow(ctx, "SELECT next_at FROM alert_pacer WHERE id = ?", key).Scan(&next); err != nil {
				return err
			}
			wait = store.FromMicros(next).Sub(now) - horizon
			if wait <= 0 {
				wait = time.Millisecond
			}
			start = time.Time{}
			return nil
		}
		if err != nil {
			return err
		}
		wait = 0
		start = store.FromMicros(next - span)
		return nil
	})
	return start, wait, err
}

// scanBatchRef reads an (alert_id, batch) row.
func scanBatchRef(row interface{ Scan(...any) error }) (Recipient, error) {
	var r Recipient
	err := row.Scan(&r.AlertID, &r.Batch)
	return r, err
}
