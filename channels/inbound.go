package channels

import (
	"context"
	"net/netip"
	"strconv"
	"time"
)

// InboundMessage is what an adapter hands over for one incoming message or call, already normalized:
// numbers in E.164, email addresses lower-cased. The ingest pipeline turns it into a contact
// (or a message on an existing one) and stores it before the adapter acknowledges its peer.
type InboundMessage struct {
	Channel Kind
	// Direction is Inbound unless a PBX reports a call an operator placed.
	Direction Direction
	// ExternalID is the provider's id (MessageSid, CallSid, CTI callId, Message-ID): the same id
	// twice is one contact.
	ExternalID string
	From       string
	FromName   string
	To         string
	Subject    string
	Body       string
	// Comune is set when the adapter already knows it (the SMTP recipient, the IMAP mailbox).
	Comune      string
	Attachments []Attachment
	Call        *Call
	MessageID   string
	InReplyTo   string
	References  []string
	// AutoReply marks auto-responders and bounces: nothing ever answers them.
	AutoReply bool
	// Notes record what could not be read (a broken part, a truncated attachment).
	Notes      []string
	ReceivedAt time.Time
	// EnvelopeFrom is an email's SMTP sender (MAIL FROM, or the Return-Path of a mailbox),
	// lower-cased; "" for a bounce or when unknown.
	EnvelopeFrom string
	// SenderCheck is what SPF, DKIM and DMARC said of an email's header From.
	SenderCheck SenderCheck
	// ReceivedOverSMTP is true for mail Sportello's own SMTP server took from the sending
	// server: EnvelopeFrom and SenderCheck then speak of that connection. Mail read from a
	// mailbox was received, and filtered, by the mailbox's provider.
	ReceivedOverSMTP bool
	// ClientIP is the address of the server that handed the mail to our SMTP server (zero
	// for mail read from a mailbox).
	ClientIP netip.Addr
	// PEC is the certification of a PEC envelope (channel PEC).
	PEC *PECInfo
}

// SenderCheck is the verdict on an email's sender: only a checked sender gets automatic
// answers, so that a forged From cannot turn them on a stranger, and a hard fail keeps a
// mail from joining a thread in the name of an office we wrote to.
type SenderCheck string

const (
	// SenderUnchecked: nobody checked.
	SenderUnchecked SenderCheck = ""
	// SenderPass: SPF or DKIM passed for a domain aligned with the header From (DMARC's rule).
	SenderPass SenderCheck = "pass"
	// SenderFail is a hard fail, evidence that the mail is forged: SPF failed for the
	// envelope sender (its domain's record excludes the client), or DMARC failed for a From
	// domain whose policy is quarantine or reject.
	SenderFail SenderCheck = "fail"
	// SenderNone: nothing passed and nothing failed hard (no SPF record or a neutral or soft
	// one, no valid aligned DKIM signature, no enforced DMARC policy): the sender is unknown,
	// as it is for much legitimate mail from small domains.
	SenderNone SenderCheck = "none"
	// SenderDNSUnavailable: nothing passed or failed hard, and a lookup that could have made
	// it pass (the From domain's DMARC record, SPF for an aligned envelope, an aligned DKIM
	// key) failed temporarily.
	SenderDNSUnavailable SenderCheck = "dns_unavailable"
)

// Receipt tells an adapter what its inbound became.
type Receipt struct {
	ContactID string
	MessageID string
	CitizenID string
	// Duplicate is true when the external id was already stored: nothing new was written.
	Duplicate bool
	// New is true when a new contact was opened (false when the message joined a thread).
	New bool
	// Comune is the comune routing decided for the message ("" when unknown).
	Comune string
}

// Sink accepts inbound traffic. Receive returns only after the data is durable.
type Sink interface {
	Receive(ctx context.Context, in InboundMessage) (Receipt, error)
}

// OutboundMessage is a message Sportello sends to a citizen on a channel.
type OutboundMessage struct {
	Channel Kind
	To      string
	From    string
	Subject string
	Body    string
	// Email threading of replies.
	MessageID   string
	InReplyTo   string
	References  []string
	Attachments []Attachment
	// StatusCallback is where the provider reports delivery, when it does.
	StatusCallback string
	// AutoReply marks an answer no person wrote (a closed-hours notice): email carries
	// "Auto-Submitted: auto-replied" (RFC 3834 §5) so that the recipient's own responders
	// stay silent instead of answering back. Other channels ignore it.
	AutoReply bool
}

// SendResult is what the provider said when it accepted an outbound message.
type SendResult struct {
	ExternalID string
	Status     string
}

// Sender delivers outbound messages on one channel.
type Sender interface {
	Send(ctx context.Context, out OutboundMessage) (SendResult, error)
}

// SendError is a provider refusal or a failure to reach the provider. Permanent errors are not
// retried. Err is the underlying error when there is one (a network error, the provider
// client's own error), so callers classify with errors.Is/As instead of reading Message.
type SendError struct {
	Code      int
	Message   string
	Permanent bool
	Err       error
}

// Unwrap returns the cause.
func (e *SendError) Unwrap() error { return e.Err }

func (e *SendError) Error() string {
	if e.Code != 0 {
		return "send failed: " + e.Message + " (code " + strconv.Itoa(e.Code) + ")"
	}
	return "send failed: " + e.Message
}
