package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/channels"
)

// pecJSON encodes a PEC certification for its column; nil stays NULL.
func pecJSON(p *channels.PECInfo) (any, error) {
	if p == nil {
		return nil, nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// pecFrom decodes the column; a value that does not decode is reported rather than dropped.
func pecFrom(col sql.NullString) (*channels.PECInfo, error) {
	if !col.Valid || col.String == "" {
		return nil, nil
	}
	var p channels.PECInfo
	if err := json.Unmarshal([]byte(col.String), &p); err != nil {
		return nil, fmt.Errorf("store: reading a PEC certification: %w", err)
	}
	return &p, nil
}

// storePECTx records the certification of an inbound PEC message on the message and, for a
// new contact, on the contact.
func storePECTx(ctx context.Context, tx *Tx, p *channels.PECInfo, contactID, messageID string, newContact bool) error {
	v, err := pecJSON(p)
	if err != nil || v == nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE messages SET pec = ? WHERE id = ?", v, messageID); err != nil {
		return err
	}
	if newContact {
		_, err = tx.Exec(ctx, "UPDATE contacts SET pec = ? WHERE id = ?", v, contactID)
	}
	return err
}

// overdueContacts reports which of the contacts have an outbound message past its delivery
// deadline without a final delivery state.
func (s *Store) overdueContacts(ctx context.Context, contactIDs []any) (map[string]bool, error) {
	out := map[string]bool{}
	if len(contactIDs) == 0 {
		return out, nil
	}
	args := append(append([]any(nil), contactIDs...), Micros(s.now()))
	rows, err := s.query(ctx, "SELECT DISTINCT contact_id FROM messages WHERE contact_id IN ("+placeholders(len(contactIDs))+
		") AND delivery_due_at IS NOT NULL AND delivery_due_at < ? AND (delivery IS NULL OR delivery = 'accepted')", args...)
	ids, err := Collect(rows, err, func(r rowScanner) (string, error) {
		var id string
		err := r.Scan(&id)
		return id, err
	})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// ApplyDeliveryReceipt records a receipt on the outbound message of the channel whose
// Message-ID it names and whose contact is of the receipt's comune (the mailbox it arrived
// in): the receipt is attached to that message (once, however often it is read), a note says
// what it was, and the delivery state moves on as deliveryAfter decides. It returns the
// message's contact, or channels.ErrUnknownMessage when no such message exists; a receipt
// without a comune matches none.
func (s *Store) ApplyDeliveryReceipt(ctx context.Context, r channels.DeliveryReceipt) (string, error) {
	ref := strings.Trim(r.RefMessageID, "<> ")
	if ref == "" || r.Comune == "" {
		return "", channels.ErrUnknownMessage
	}
	var contactID string
	err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		var msgID, notes, from string
		var delivery sql.NullString
		err := tx.QueryRow(ctx, `SELECT m.id, m.contact_id, m.notes, m.delivery, m.from_addr FROM messages m
			JOIN contacts c ON c.id = m.contact_id
			WHERE m.message_id = ? AND m.channel = ? AND m.direction = 'outbound' AND c.comune = ?
			ORDER BY m.created_at DESC LIMIT 1`, ref, string(r.Channel), r.Comune).Scan(&msgID, &contactID, &notes, &delivery, &from)
		if errors.Is(err, sql.ErrNoRows) {
			return channels.ErrUnknownMessage
		}
		if err != nil {
			return err
		}
		if r.Attachment.Data != nil {
			var n int
			sum := sha256Hex(r.Attachment.Data)
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM attachments WHERE message_id = ? AND sha256 = ?", msgID, sum).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil // this receipt was read before
			}
			if _, err := s.addAttachment(ctx, tx, contactID, msgID, r.Attachment, s.now()); err != nil {
				return err
			}
		}
		next, unapplied := deliveryAfter(delivery.String, from, r)
		notes = appendNote(notes, receiptNote(r.Note, unapplied))
		_, err = tx.Exec(ctx, "UPDATE messages SET delivery = ?, notes = ?, updated_at = ? WHERE id = ?",
			strOrNil(next), notes, Micros(s.now()), msgID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE contacts SET updated_at = ? WHERE id = ?", Micros(s.now()), contactID)
		return err
	})
	if err != nil {
		return "", err
	}
	return contactID, nil
}

// deliveryWords name the delivery states in the notes operators read.
var deliveryWords = map[string]string{
	channels.DeliveryAccepted:  "accettato",
	channels.DeliveryDelivered: "consegnato",
	channels.DeliveryFailed:    "non consegnato",
}

// deliveryAfter is the delivery state of a message (now current, sent from from) after the
// receipt r, and, when r's state is not applied although it differs, why. PEC sends one
// accettazione, then one avvenuta-consegna or errore-consegna per recipient: the first final
// state stands, a late accettazione changes nothing, and a later final state that contradicts
// the first is kept in the notes only. A receipt certifying another sender is about someone
// else's message that reused our Message-ID.
func deliveryAfter(current, from string, r channels.DeliveryReceipt) (next, unapplied string) {
	switch {
	case r.Delivery == "" || r.Delivery == current:
		return current, ""
	case r.CertifiedSender != "" && !sameAddress(from, r.CertifiedSender):
		return current, fmt.Sprintf("stato di consegna non cambiato: la ricevuta certifica il mittente %s, non quello del messaggio", r.CertifiedSender)
	case !channels.DeliveryFinal(current):
		return r.Delivery, ""
	case !channels.DeliveryFinal(r.Delivery):
		return current, ""
	default:
		return current, fmt.Sprintf("stato di consegna non cambiato: resta %q, il primo esito definitivo ricevuto; questa ricevuta direbbe %q",
			deliveryWords[current], deliveryWords[r.Delivery])
	}
}

// sameAddress reports whether a message's From (possibly with a display name) is address.
func sameAddress(from, address string) bool {
	a, err := channels.NormalizeEmail(from)
	if err != nil {
		return false
	}
	b, err := channels.NormalizeEmail(address)
	return err == nil && a == b
}

// receiptNote is the one line a receipt adds to its message's notes: what it was and, when
// its state was not applied, why.
func receiptNote(note, unapplied string) string {
	switch {
	case unapplied == "":
		return note
	case note == "":
		return unapplied
	}
	return note + " — " + unapplied
}

// appendNote adds a line, unless empty, to a message's notes.
func appendNote(notes, line string) string {
	switch {
	case line == "":
		return notes
	case notes == "":
		return line
	}
	return notes + "\n" + line
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// SetMessageDelivery sets the delivery state of an outbound message by its id (a provider's
// status for SMS or App IO); like a receipt, a final state is not turned back into accepted.
// It reports ErrNotFound for no such outbound message.
func (s *Store) SetMessageDelivery(ctx context.Context, messageID, delivery string) error {
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE messages SET delivery = ?, updated_at = ? WHERE id = ? AND direction = 'outbound'
			AND (? <> 'accepted' OR delivery IS NULL OR delivery = 'accepted')`, strOrNil(delivery), Micros(s.now()), messageID, delivery)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM messages WHERE id = ? AND direction = 'outbound'", messageID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// smsDelivery is the delivery an SMS's provider status stands for (Twilio's sent: handed to
// the carrier), nil while nothing is known.
func smsDelivery(status string) *string {
	var d string
	switch status {
	case "sent":
		d = channels.DeliveryAccepted
	case "delivered":
		d = channels.DeliveryDelivered
	case "failed", "undelivered":
		d = channels.DeliveryFailed
	default:
		return nil
	}
	return &d
}

// DueContact is a contact whose outbound message reached its delivery deadline.
type DueContact struct {
	ContactID string
	Comune    *string
}

// DeliveriesDue lists the contacts with an outbound message whose delivery deadline fell in
// (after, until] without a final delivery state: the moments the inbox must hear about.
func (s *Store) DeliveriesDue(ctx context.Context, after, until time.Time) ([]DueContact, error) {
	rows, err := s.query(ctx, `SELECT DISTINCT m.contact_id, c.comune FROM messages m JOIN contacts c ON c.id = m.contact_id
		WHERE m.delivery_due_at > ? AND m.delivery_due_at <= ? AND (m.delivery IS NULL OR m.delivery = 'accepted')`,
		Micros(after), Micros(until))
	return Collect(rows, err, func(r rowScanner) (DueContact, error) {
		var d DueContact
		var comune sql.NullString
		err := r.Scan(&d.ContactID, &comune)
		d.Comune = nullString(comune)
		return d, err
	})
}
