package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/sportello/sportello/channels"
)

// SetUserPhone sets where a user answers calls ("" for the browser softphone); the audit
// entries, if any, commit with it.
func (s *Store) SetUserPhone(ctx context.Context, username, phone string, audit ...AuditEntry) error {
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.Exec(ctx, "UPDATE users SET phone = ? WHERE username = ? AND deleted_at IS NULL", phone, username)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return s.auditAll(ctx, tx, audit)
	})
}

// UserPhone is where a user answers calls ("" for the browser softphone).
func (s *Store) UserPhone(ctx context.Context, username string) (string, error) {
	var phone string
	err := s.queryRow(ctx, "SELECT phone FROM users WHERE username = ? AND deleted_at IS NULL", username).Scan(&phone)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return phone, err
}

// LiveCall is what the desk needs to act on a call: its provider id and progress.
type LiveCall struct {
	ContactID  string
	ExternalID string
	Status     string
	Assignee   string
	From, To   string
	Comune     string
	Category   string
	// Operator is who answered (empty until someone did).
	Operator string
	// Offer names the call's latest offer to an operator ("" if it was never offered).
	Offer string
}

// LiveCallOf reads the call of a phone contact (ErrNotFound for other contacts).
func (s *Store) LiveCallOf(ctx context.Context, contactID string) (LiveCall, error) {
	var lc LiveCall
	var status, assignee, comune, category, operator sql.NullString
	var answered, offered sql.NullInt64
	err := s.queryRow(ctx, `SELECT id, external_id, call_status, assignee, from_addr, to_addr, comune, category, call_operator, call_answered_at,
		call_offered_at FROM contacts WHERE id = ? AND channel = ?`, contactID, string(channels.Phone)).
		Scan(&lc.ContactID, &lc.ExternalID, &status, &assignee, &lc.From, &lc.To, &comune, &category, &operator, &answered, &offered)
	if errors.Is(err, sql.ErrNoRows) {
		return lc, ErrNotFound
	}
	lc.Status, lc.Assignee, lc.Comune, lc.Category = status.String, assignee.String, comune.String, category.String
	if answered.Valid {
		lc.Operator = operator.String
	}
	if offered.Valid {
		lc.Offer = offerName(offered.Int64)
	}
	return lc, err
}

// UnassignTx returns one contact to its queue when username holds it (an offered call nobody
// answered). It reports whether the contact changed.
func (s *Store) UnassignTx(ctx context.Context, tx *Tx, contactID, username string) (bool, error) {
	res, err := tx.Exec(ctx, "UPDATE contacts SET status = 'open', assignee = NULL, updated_at = ? WHERE id = ? AND assignee = ? AND status = 'assigned'",
		Micros(s.now()), contactID, username)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// SetCallRecording records the provider's recording of an answered call.
func (s *Store) SetCallRecording(ctx context.Context, contactID, recordingSID string) error {
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.Exec(ctx, "UPDATE contacts SET call_recording_sid = ?, updated_at = ? WHERE id = ?", recordingSID, Micros(s.now()), contactID)
		return err
	})
}

// SetCallStatusIf moves a call from one status to another only if it is still in the first
// (so one offer wins when several replicas try). It reports whether it changed.
func (s *Store) SetCallStatusIf(ctx context.Context, contactID, from, to string) (bool, error) {
	changed := false
	err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.Exec(ctx, "UPDATE contacts SET call_status = ?, updated_at = ? WHERE id = ? AND call_status = ?",
			to, Micros(s.now()), contactID, from)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		changed = n > 0
		return nil
	})
	return changed, err
}

// ErrInvalidPhone is an operator phone that is neither a phone number nor a sip: URI.
var ErrInvalidPhone = errors.New("an operator's phone must be a phone number (E.164) or a sip: URI")

// NormalizeOperatorPhone checks where an operator answers: a number (normalized to E.164), a
// sip:user@host URI, or "" for the browser softphone.
func NormalizeOperatorPhone(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return "", nil
	case strings.HasPrefix(strings.ToLower(s), "sip:"):
		rest := s[4:]
		at := strings.IndexByte(rest, '@')
		if at <= 0 || at == len(rest)-1 || strings.ContainsAny(rest, " <>\"") {
			return "", ErrInvalidPhone
		}
		return "sip:" + rest, nil
	}
	n, err := channels.NormalizePhone(s)
	if err != nil {
		return "", ErrInvalidPhone
	}
	return n, nil
}

// CallRecordingSID is the provider's id of an answered call's recording ("" when none).
func (s *Store) CallRecordingSID(ctx context.Context, contactID string) (string, error) {
	var sid sql.NullString
	err := s.queryRow(ctx, "SELECT call_recording_sid FROM contacts WHERE id = ?", contactID).Scan(&sid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return sid.String, err
}
