package channels

import (
	"context"
	"errors"
	"time"
)

// ErrUnknownCall is returned for an event about a call id never seen.
var ErrUnknownCall = errors.New("unknown call")

// ErrStaleOffer is returned for an operator's answer to an offer that is no longer the call's
// (it expired, or the call was offered again since): nothing is recorded.
var ErrStaleOffer = errors.New("the offer is no longer the call's")

// ErrCallGone is a provider's refusal to move a call that is over (the caller hung up).
var ErrCallGone = errors.New("the call is no longer in progress")

// ErrOutcomeUnknown is a provider's request whose outcome nobody knows: it was sent, and no
// answer came (a timeout, a connection broken after sending). The provider may have carried it
// out, so it must not be taken as refused: an offer may be ringing the operator all the same.
// Anything else that fails (an answer saying no, a connection refused) is a definite refusal.
var ErrOutcomeUnknown = errors.New("the provider's answer never came: the request may have been carried out")

// CallEvent is news about a call already known by its provider id: progress, talk time, a
// voicemail, the category a caller chose in the menu.
type CallEvent struct {
	Status       string
	Duration     *int
	RecordingURL string
	AnsweredAt   *time.Time
	// EndedAt lets the store compute talk time from the answer when no duration is given.
	EndedAt  *time.Time
	Operator string
	Category string
	// Result, when set, is how the call ended (CallAnswered, ...). Without it the store derives
	// it: an answer makes it answered, a hang-up before any answer abandoned.
	Result string
	// WaitSeconds is the provider's own measure of the wait (Twilio's QueueTime); without it
	// the wait runs from arrival to the answer or hang-up.
	WaitSeconds   *int
	TransferredTo string
	// Offer, on an operator's answer, names the offer it answers (what the desk put in the
	// provider's callback URLs; "" when there is none). The answer is recorded only while that
	// offer is the call's latest and still stands; otherwise UpdateCall returns ErrStaleOffer.
	Offer string
}

// CallSink records call events. UpdateCall returns the contact's id, or ErrUnknownCall.
type CallSink interface {
	UpdateCall(ctx context.Context, ch Kind, externalID string, ev CallEvent) (contactID string, err error)
}

// DeliveryUpdate is a provider's news about an outbound message.
type DeliveryUpdate struct {
	ExternalID string
	Status     string
	ErrorCode  string
	Channel    Kind
	// CallbackQuery is the query of the callback address the message was sent with. The
	// provider's signature covers it, so a sender may name its message there (the alerts name
	// their recipient).
	CallbackQuery string
}

// ReplyStatusQuery is the query an operator's reply adds to its status callback address, so
// that its callbacks say whose they are: they name no alert recipient, and go straight to the
// replies.
const ReplyStatusQuery = "of=reply"

// DeliverySink records delivery news (Twilio status callbacks). An unknown id is not an error:
// providers report on messages sent before a restore, or by another system on the account.
type DeliverySink interface {
	UpdateDelivery(ctx context.Context, u DeliveryUpdate) error
}
