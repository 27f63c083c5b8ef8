package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/sportello/sportello/channels"
)

// Outbound message states, from our queue to the citizen's phone or mailbox.
const (
	OutQueued      = "queued"
	OutSent        = "sent"
	OutDelivered   = "delivered"
	OutUndelivered = "undelivered"
	OutFailed      = "failed"
	// OutOutbox: kept in the local outbox (no Twilio credentials or no email relay), shown, not sent.
	OutOutbox = "outbox"
)

// InsertOutboundTx adds an outbound message to a contact's thread inside a transaction (the
// same one that enqueues the job that will send it).
func (s *Store) InsertOutboundTx(ctx context.Context, tx *Tx, m channels.Message) error {
	if m.ID == "" {
		return errors.New("store: an outbound message needs an id")
	}
	now := s.now()
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	_, err := tx.Exec(ctx, `INSERT INTO messages (id, contact_id, direction, channel, from_addr, to_addr, subject, body,
		external_id, message_id, in_reply_to, refs, status, error, author, notes, created_at, updated_at)
		VALUES (?, ?, 'outbound', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.ContactID, string(m.Channel), m.From, m.To, m.Subject, m.Body, m.ExternalID, m.MessageID, m.InReplyTo,
		joinRefs(m.References), m.Status, m.Error, m.Author, strings.Join(m.Notes, "\n"), Micros(m.CreatedAt), Micros(now))
	if err != nil {
		return err
	}
	if m.DeliveryDueAt != nil {
		if _, err := tx.Exec(ctx, "UPDATE messages SET delivery_due_at = ? WHERE id = ?", Micros(*m.DeliveryDueAt), m.ID); err != nil {
			return err
		}
	}
	// first_response_at feeds the reports' first response times (migration 0013): the first
	// message a person wrote; automatic answers (no author) are not a response.
	var firstResponse any
	if m.Author != "" {
		firstResponse = Micros(m.CreatedAt)
	}
	_, err = tx.Exec(ctx, "UPDATE contacts SET updated_at = ?, first_response_at = COALESCE(first_response_at, ?) WHERE id = ?",
		Micros(now), firstResponse, m.ContactID)
	return err
}

// OutboundMessage reads one outbound message.
func (s *Store) OutboundMessage(ctx context.Context, id string) (channels.Message, error) {
	var m channels.Message
	var refs, notes string
	var created int64
	err := s.queryRow(ctx, `SELECT id, contact_id, direction, channel, from_addr, to_addr, subject, `+messageBody+`, external_id,
		message_id, in_reply_to, refs, status, error, author, notes, created_at FROM messages WHERE id = ? AND direction = 'outbound'`, id).
		Scan(&m.ID, &m.ContactID, &m.Direction, &m.Channel, &m.From, &m.To, &m.Subject, &m.Body, &m.ExternalID,
			&m.MessageID, &m.InReplyTo, &refs, &m.Status, &m.Error, &m.Author, &notes, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	if err != nil {
		return m, err
	}
	m.References = strings.Fields(refs)
	if notes != "" {
		m.Notes = strings.Split(notes, "\n")
	}
	m.CreatedAt = FromMicros(created)
	return m, nil
}

// MarkOutbound records what happened to an outbound message: the provider's id (kept when
// empty), its status and the error shown to operators ("" clears it).
func (s *Store) MarkOutbound(ctx context.Context, id, externalID, status, errText string) error {
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE messages SET external_id = CASE WHEN ? = '' THEN external_id ELSE ? END, status = ?, error = ?,
			updated_at = ? WHERE id = ?`, externalID, externalID, status, ErrorText(errText), Micros(s.now()), id)
		return err
	})
}

// NoteOutboundError shows the last temporary error of a message still queued for a retry.
func (s *Store) NoteOutboundError(ctx context.Context, id, errText string) error {
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.Exec(ctx, "UPDATE messages SET error = ?, updated_at = ? WHERE id = ? AND status = 'queued'", ErrorText(errText), Micros(s.now()), id)
		return err
	})
}

// KnownExternalIDs reports which of the provider ids are already recorded on one of our
// outbound messages of that channel.
func (s *Store) KnownExternalIDs(ctx context.Context, ch channels.Kind, ids []string) (map[string]bool, error) {
	known := make(map[string]bool, len(ids))
	for _, id := range ids {
		var n int
		if err := s.queryRow(ctx, "SELECT COUNT(*) FROM messages WHERE channel = ? AND external_id = ? AND direction = 'outbound'",
			string(ch), id).Scan(&n); err != nil {
			return nil, err
		}
		known[id] = n > 0
	}
	return known, nil
}

// DeliveryRank orders delivery states so a late callback never moves a message backwards.
func DeliveryRank(status string) int {
	switch status {
	case OutQueued, "":
		return 0
	case "accepted", "scheduled", "queued_provider", "sending":
		return 1
	case OutSent:
		return 2
	case OutDelivered, OutUndelivered, OutFailed, OutOutbox, "read", "canceled":
		return 3
	}
	return 1
}

// UpdateDeliveryStatus applies a provider's status callback to the outbound message with that
// provider id. It reports the contact, or found=false for an id that is not one of our
// messages (alerts, or messages sent by another system).
func (s *Store) UpdateDeliveryStatus(ctx context.Context, ch channels.Kind, externalID, status, errText string) (contactID string, found bool, err error) {
	err = s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		var id, prev string
		err := tx.QueryRow(ctx, "SELECT id, contact_id, status FROM messages WHERE channel = ? AND external_id = ? AND direction = 'outbound'",
			string(ch), externalID).Scan(&id, &contactID, &prev)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		if DeliveryRank(status) < DeliveryRank(prev) {
			return nil
		}
		_, err = tx.Exec(ctx, "UPDATE messages SET status = ?, error = CASE WHEN ? = '' THEN error ELSE ? END, updated_at = ? WHERE id = ?",
			status, errText, errText, Micros(s.now()), id)
		return err
	})
	return contactID, found, err
}

// StoredAttachment is an attachment with its bytes (nil when the provider keeps them).
type StoredAttachment struct {
	channels.Attachment
	MessageID string
}

// ContactAttachments lists every attachment of a contact with its bytes, for a forward.
func (s *Store) ContactAttachments(ctx context.Context, contactID string) ([]StoredAttachment, error) {
	rows, err := s.query(ctx, "SELECT "+attachmentColumns+" FROM attachments WHERE contact_id = ? ORDER BY created_at, id", contactID)
	list, err := Collect(rows, err, func(r rowScanner) (StoredAttachment, error) {
		a, err := scanAttachment(r)
		return StoredAttachment{Attachment: a.Attachment, MessageID: a.MessageID}, err
	})
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].SHA256 == "" {
			continue
		}
		data, err := s.Blob(ctx, list[i].SHA256)
		if err != nil {
			return nil, err
		}
		list[i].Data = data
	}
	return list, nil
}
