package inbox

import (
	"context"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/store"
)

// Desk is what the inbox asks the operators' desk to do. The gateway adapts the desk package
// to it; an action's refusal comes back as a *pages.Problem with the desk's message.
type Desk interface {
	Reply(ctx context.Context, u store.User, contactID, body string) (channels.Message, error)
	Assign(ctx context.Context, u store.User, contactID, username string) error
	Claim(ctx context.Context, u store.User, contactID string) error
	Resolve(ctx context.Context, u store.User, contactID string, r Resolution) error
	// Route sets a contact's comune and/or category ("" keeps it).
	Route(ctx context.Context, u store.User, contactID, comune, category string) error
	SetPresence(ctx context.Context, u store.User, status string) error
	Merge(ctx context.Context, u store.User, intoID, fromID string) error
	Queues(ctx context.Context, u store.User) ([]QueueStats, error)
	Offices(comune string) []config.Office
	// CannedFor is the canned answers for a contact's reply box: its comune's and the shared
	// ones fitting its channel, in the citizen's language, placeholders filled.
	CannedFor(ctx context.Context, c channels.Contact) ([]Canned, error)
}

// Dialer is a desk that can call a citizen back from the contact page (click-to-dial through
// the PBX, or Twilio); an optional add-on of Desk.
type Dialer interface {
	CanDial() bool
	Dial(ctx context.Context, u store.User, contactID string) (string, error)
}

// AppIO is a desk that can reply by App IO and give citizens a fiscal code; an optional
// add-on of Desk.
type AppIO interface {
	// CanReplyByAppIO reports whether the comune has an App IO service.
	CanReplyByAppIO(comune string) bool
	// ReplyVia replies on a chosen channel ("" = the contact's own, "app_io").
	ReplyVia(ctx context.Context, u store.User, contactID, body string, via channels.Kind) (channels.Message, error)
	// AddFiscalCode gives a citizen a codice fiscale (verified, audited) and returns it.
	AddFiscalCode(ctx context.Context, u store.User, citizenID, raw string) (string, error)
}

// Resolution closes a contact.
type Resolution struct {
	Outcome, Category, Office, Note string
}

// QueueStats is one line of the supervisors' live queues.
type QueueStats struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	Waiting            int    `json:"waiting"`
	OldestWaitSeconds  int    `json:"oldest_wait_seconds"`
	OperatorsAvailable int    `json:"operators_available"`
}

// Canned is a ready answer an operator can start a reply from.
type Canned struct {
	ID    string
	Title string
	Body  string
}
