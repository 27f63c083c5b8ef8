package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/sportello/sportello/channels"
)

// FaxText is what OCR read from one fax attachment, and the routing its text suggests.
type FaxText struct {
	ContactID    string
	AttachmentID string
	// Text is what was read; it is appended to the contact's body and to the body of the
	// message the attachment came with, under a heading naming the file.
	Text string
	// Routing applies only while the contact's category is unset or one of Replaceable (the
	// classifier's fallback, "altro"): what an operator chose is never overwritten, and a
	// resolved contact is not moved.
	Routing     Routing
	Replaceable []string
}

// FaxTextHeading introduces the OCR text of a file in a contact's body.
func FaxTextHeading(filename string) string {
	if filename == "" {
		filename = "fax"
	}
	return "[Testo del fax letto con OCR: " + filename + "]"
}

// SetFaxText appends OCR text to a fax contact and reroutes it by that text (see FaxText). It is
// idempotent: the same text for the same attachment twice is appended once, so a retried job
// does no harm. rerouted reports whether category and queue changed.
func (s *Store) SetFaxText(ctx context.Context, ft FaxText) (rerouted bool, err error) {
	text := strings.TrimSpace(ft.Text)
	err = s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		rerouted = false
		var body, status string
		var category sql.NullString
		err := tx.QueryRow(ctx, "SELECT body, category, status FROM contacts WHERE id = ?", ft.ContactID).Scan(&body, &category, &status)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var filename, messageID string
		err = tx.QueryRow(ctx, "SELECT filename, message_id FROM attachments WHERE id = ? AND contact_id = ?", ft.AttachmentID, ft.ContactID).
			Scan(&filename, &messageID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		now := Micros(s.now())
		if text != "" {
			block := FaxTextHeading(filename) + "\n" + text
			if !strings.Contains(body, block) {
				if _, err := tx.Exec(ctx, "UPDATE contacts SET body = ?, updated_at = ? WHERE id = ?", appendBlock(body, block), now, ft.ContactID); err != nil {
					return err
				}
				var msgBody string
				var inContact int
				if err := tx.QueryRow(ctx, "SELECT body, body_in_contact FROM messages WHERE id = ?", messageID).Scan(&msgBody, &inContact); err != nil {
					return err
				}
				// A message whose text is its contact's body (messageBody) got the block above.
				if inContact == 0 {
					msgBody = appendBlock(msgBody, block)
				}
				if _, err := tx.Exec(ctx, "UPDATE messages SET body = ?, updated_at = ? WHERE id = ?", msgBody, now, messageID); err != nil {
					return err
				}
			}
		}
		r := ft.Routing
		if r.Category == "" || status == string(channels.StatusResolved) || r.Category == category.String ||
			(category.Valid && !slices.Contains(ft.Replaceable, category.String)) {
			return nil
		}
		var sla any
		if !r.SLADue.IsZero() {
			sla = Micros(r.SLADue)
		}
		if _, err := tx.Exec(ctx, `UPDATE contacts SET category = ?, queue = COALESCE(?, queue), priority = ?,
			sla_due_at = COALESCE(?, sla_due_at), updated_at = ? WHERE id = ?`,
			r.Category, strOrNil(r.Queue), r.Priority, sla, now, ft.ContactID); err != nil {
			return err
		}
		rerouted = true
		return nil
	})
	return rerouted, err
}

func appendBlock(body, block string) string {
	body = strings.TrimRight(body, " \t\r\n")
	if body == "" {
		return block
	}
	return body + "\n\n" + block
}

// SetAttachmentPreview stores a PNG preview of an attachment (page one of a fax), served by
// the attachment preview endpoint.
func (s *Store) SetAttachmentPreview(ctx context.Context, attachmentID string, png []byte) error {
	if len(png) == 0 {
		return errors.New("store: empty preview")
	}
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		sum, err := s.PutBlob(ctx, tx, png)
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "UPDATE attachments SET preview_sha256 = ? WHERE id = ?", sum, attachmentID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// MessageAttachmentsTx lists the attachments of one message inside a write transaction (an
// ingest hook choosing which files to read in the background).
func (s *Store) MessageAttachmentsTx(ctx context.Context, tx *Tx, messageID string) ([]channels.Attachment, error) {
	rows, err := tx.Query(ctx, "SELECT "+attachmentColumns+" FROM attachments WHERE message_id = ? ORDER BY created_at, id", messageID)
	return Collect(rows, err, func(r rowScanner) (channels.Attachment, error) {
		a, err := scanAttachment(r)
		return a.Attachment, err
	})
}
