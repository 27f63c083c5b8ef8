package channels

import (
	"context"
	"errors"
	"time"
)

// Delivery states of an outbound message, as the recipient's side confirmed them.
const (
	DeliveryAccepted  = "accepted"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// DeliveryFinal reports whether a delivery state ends the story (no later receipt changes it
// back to accepted).
func DeliveryFinal(d string) bool { return d == DeliveryDelivered || d == DeliveryFailed }

// PECInfo is the certification a PEC provider gave an inbound message (from its daticert.xml),
// with the evidence kept: the raw envelope's hash and what its signature check said.
type PECInfo struct {
	// ID is the identificativo of daticert.xml.
	ID string `json:"id"`
	// Sender is the certified sender (mittente).
	Sender string     `json:"sender"`
	SentAt *time.Time `json:"sent_at"`
	// Provider is the gestore-emittente.
	Provider string `json:"provider"`
	// EnvelopeSHA256 is the hex SHA-256 of the raw envelope, kept as attachment envelope.eml.
	EnvelopeSHA256 string `json:"envelope_sha256"`
	// Signature is the provider's S/MIME signature: valid (chains to a trusted root),
	// untrusted (matches, no trusted root), invalid, absent.
	Signature       string `json:"signature"`
	SignatureDetail string `json:"signature_detail,omitempty"`
	Signer          string `json:"signer,omitempty"`
	// Anomaly: the provider could not certify the message (X-Trasporto: errore).
	Anomaly bool `json:"anomaly"`
}

// DeliveryReceipt is news from the recipient's side about a message we sent: a PEC receipt.
type DeliveryReceipt struct {
	Channel Kind
	// Comune is the comune of the mailbox the receipt arrived in: only a message of a contact
	// of that comune is matched, so a receipt placed in one comune's box never touches
	// another's messages. "" matches nothing.
	Comune string
	// RefMessageID is the Message-ID of our message it is about (no angle brackets).
	RefMessageID string
	// CertifiedSender is the sender of our message as the provider certified it (daticert.xml
	// mittente); when set, a message sent from another address gets the receipt as a note only.
	CertifiedSender string
	// Type is the provider's name for it (accettazione, avvenuta-consegna, ...).
	Type string
	// Delivery is the state it sets (DeliveryAccepted ...); "" for a notice that sets none, and
	// for a receipt whose provider signature or certification did not check out.
	Delivery string
	// Note is what the operator reads in the thread.
	Note string
	// Attachment is the receipt itself, kept on our message.
	Attachment Attachment
	ReceivedAt time.Time
}

// ErrUnknownMessage is a receipt about a message we do not know.
var ErrUnknownMessage = errors.New("no outbound message with that Message-ID")

// ReceiptSink takes delivery receipts; it returns ErrUnknownMessage when none of our messages
// matches, and returns only once the update is durable.
type ReceiptSink interface {
	DeliveryReceipt(ctx context.Context, r DeliveryReceipt) (contactID string, err error)
}
