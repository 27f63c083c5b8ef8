package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"
)

// An offer is one attempt to reach an operator with a queued Twilio call: the desk marks the
// call offered, then asks Twilio to dial the operator, and Twilio's callbacks (the answer, the
// <Dial action>) say how it went. Each offer is named by the time it was made
// (contacts.call_offered_at, in microseconds): the callbacks carry the name, so news about an
// older offer of the same call (one that expired, or was followed by another) is told apart.

// ErrStaleOffer is news about an offer that is no longer the call's: it expired and the call
// went back to the queue, or the call was offered again since.
var ErrStaleOffer = errors.New("store: the offer is no longer the call's")

// offerName is how an offer's time travels in callback URLs.
func offerName(micros int64) string { return strconv.FormatInt(micros, 10) }

// parseOffer reads an offer's name; ok is false for anything no offer was ever named.
func parseOffer(name string) (int64, bool) {
	v, err := strconv.ParseInt(name, 10, 64)
	return v, err == nil && v > 0
}

// MarkCallOffered moves a queued call that username holds to offered (a compare-and-set: when
// several replicas try, one wins) and returns the offer's name, "" when the call was not
// marked (no longer queued, or no longer theirs). The name is the store's time, moved past the
// call's previous offer when the clock repeats, so two offers of one call never share it.
func (s *Store) MarkCallOffered(ctx context.Context, contactID, username string) (string, error) {
	var name string
	err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		name = ""
		var prev sql.NullInt64
		err := tx.QueryRow(ctx, "SELECT call_offered_at FROM contacts WHERE id = ?", contactID).Scan(&prev)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		now := Micros(s.now())
		at := now
		if prev.Valid && prev.Int64 >= at {
			at = prev.Int64 + 1
		}
		res, err := tx.Exec(ctx, `UPDATE contacts SET call_status = 'offered', call_offered_at = ?, updated_at = ?
			WHERE id = ? AND call_status = 'queued' AND assignee = ? AND status = 'assigned' AND call_ended_at IS NULL`,
			at, now, contactID, username)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			name = offerName(at)
		}
		return nil
	})
	return name, err
}

// RequeueOfferTx puts an offered call back to queued when offer is still its current offer
// ("" matches any: the callbacks of offers made before offers had names). It reports whether
// it did; the assignment is the caller's to undo.
func (s *Store) RequeueOfferTx(ctx context.Context, tx *Tx, contactID, offer string) (bool, error) {
	q := "UPDATE contacts SET call_status = 'queued', updated_at = ? WHERE id = ? AND call_status = 'offered'"
	args := []any{Micros(s.now()), contactID}
	if offer != "" {
		at, ok := parseOffer(offer)
		if !ok {
			return false, nil
		}
		q += " AND call_offered_at = ?"
		args = append(args, at)
	}
	res, err := tx.Exec(ctx, q, args...)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// RequeueOffer is RequeueOfferTx in a transaction of its own.
func (s *Store) RequeueOffer(ctx context.Context, contactID, offer string) (bool, error) {
	done := false
	err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		var err error
		done, err = s.RequeueOfferTx(ctx, tx, contactID, offer)
		return err
	})
	return done, err
}

// StaleOffer is a call still waiting for its operator to be reached past the deadline: offered
// (Offered true) with no answer and no outcome, or assigned while queued and never offered.
type StaleOffer struct {
	ContactID  string
	ExternalID string
	Operator   string
	Comune     string
	Offered    bool
}

// The calls waiting for their operator to be reached, as the partial index contacts_call_offers
// names them (its terms repeated word for word, so both planners use it).
const waitingForOperator = `status = 'assigned' AND channel = 'phone' AND call_status IN ('queued', 'offered') AND call_ended_at IS NULL`

// stalePast selects, among those, the ones whose offer was made (or, never offered, whose last
// change was) at or before the cutoff. An offer made before offers had a time goes by its last
// change too. Both ? are the cutoff.
const stalePast = ` AND ((call_status = 'offered' AND COALESCE(call_offered_at, updated_at) <= ?)
	OR (call_status = 'queued' AND updated_at <= ?))`

const staleOffersQuery = `SELECT id, external_id, assignee, COALESCE(comune, ''), call_status
	FROM contacts WHERE ` + waitingForOperator + stalePast + ` ORDER BY received_at LIMIT ?`

// StaleOffers lists at most limit calls that have waited longer than age (by the store's clock)
// for their operator to be reached, those whose caller has waited longest first.
func (s *Store) StaleOffers(ctx context.Context, age time.Duration, limit int) ([]StaleOffer, error) {
	cutoff := Micros(s.now().Add(-age))
	rows, err := s.query(ctx, staleOffersQuery, cutoff, cutoff, limit)
	return Collect(rows, err, func(r rowScanner) (StaleOffer, error) {
		var so StaleOffer
		var status string
		err := r.Scan(&so.ContactID, &so.ExternalID, &so.Operator, &so.Comune, &status)
		so.Offered = status == "offered"
		return so, err
	})
}

// ExpireOfferTx puts a call that operator holds back to queued when it is still stale as
// StaleOffers found it (re-checked here, in the caller's transaction, so that one of several
// replicas sweeping at once acts, and a call answered, ended or offered again meanwhile is left
// alone). It reports whether it did; the assignment is the caller's to undo.
func (s *Store) ExpireOfferTx(ctx context.Context, tx *Tx, contactID, operator string, age time.Duration) (bool, error) {
	now := s.now()
	cutoff := Micros(now.Add(-age))
	res, err := tx.Exec(ctx, `UPDATE contacts SET call_status = 'queued', updated_at = ? WHERE id = ? AND assignee = ? AND `+
		waitingForOperator+stalePast, Micros(now), contactID, operator, cutoff, cutoff)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
