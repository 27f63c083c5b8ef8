package channels

import "time"

// Kind is the channel a contact arrived on and is answered on.
type Kind string

const (
	SMS   Kind = "sms"
	Email Kind = "email"
	Fax   Kind = "fax"
	Phone Kind = "phone"
	// AppIO is the state's app, reached by codice fiscale: outbound only (replies and alerts);
	// no contact arrives on it.
	AppIO Kind = "app_io"
	// PEC is certified email (posta elettronica certificata): mail with legal value, read from
	// a comune's PEC box and answered through its PEC provider.
	PEC Kind = "pec"
)

// Valid reports whether k is one of the channels.
func (k Kind) Valid() bool {
	switch k {
	case SMS, Email, Fax, Phone, PEC:
		return true
	}
	return false
}

// Direction of a contact or message as seen from the contact centre.
type Direction string

const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// Status is where a contact stands in the operators' work.
type Status string

const (
	StatusOpen     Status = "open"
	StatusAssigned Status = "assigned"
	StatusResolved Status = "resolved"
)

// Outcomes of a resolved contact, as the seed's centre measured them.
const (
	OutcomeFirstLevel       = "first_level"
	OutcomeTransferredPhone = "transferred_phone"
	OutcomeForwardedEmail   = "forwarded_email"
)

// ValidOutcome reports whether o is one of the three outcomes.
func ValidOutcome(o string) bool {
	return o == OutcomeFirstLevel || o == OutcomeTransferredPhone || o == OutcomeForwardedEmail
}

// Contact is one request from a citizen on one channel, with its whole thread.
// Nullable fields are pointers so the JSON says null when a value is unknown.
type Contact struct {
	ID          string       `json:"id"`
	Channel     Kind         `json:"channel"`
	Direction   Direction    `json:"direction"`
	Comune      *string      `json:"comune"`
	Citizen     *CitizenRef  `json:"citizen"`
	From        string       `json:"from"`
	To          string       `json:"to"`
	FromName    string       `json:"from_name,omitempty"`
	Subject     string       `json:"subject"`
	Body        string       `json:"body"`
	Attachments []Attachment `json:"attachments"`
	Category    *string      `json:"category"`
	Queue       *string      `json:"queue"`
	Status      Status       `json:"status"`
	Assignee    *string      `json:"assignee"`
	Outcome     *string      `json:"outcome"`
	Office      *string      `json:"office,omitempty"`
	OfficePhone *string      `json:"office_phone,omitempty"`
	Note        string       `json:"note,omitempty"`
	Call        *Call        `json:"call"`
	// PEC is the certification of a pec contact's first envelope; nil on other channels.
	PEC *PECInfo `json:"pec"`
	// DeliveryOverdue: an outbound message of the thread got no delivery receipt in time.
	DeliveryOverdue bool       `json:"delivery_overdue"`
	ExternalID      string     `json:"external_id"`
	AutoReply       bool       `json:"auto_reply"`
	Priority        int        `json:"priority"`
	Escalated       bool       `json:"escalated"`
	ReceivedAt      time.Time  `json:"received_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	ResolvedAt      *time.Time `json:"resolved_at,omitempty"`
	Messages        []Message  `json:"messages,omitempty"`
}

// CitizenRef is the citizen as embedded in a contact.
type CitizenRef struct {
	ID    string  `json:"id"`
	Name  string  `json:"name,omitempty"`
	Phone *string `json:"phone"`
	Email *string `json:"email"`
	Fax   *string `json:"fax"`
}

// Call holds what a phone contact adds: its progress, how it ended and its times.
type Call struct {
	Status string `json:"status"`
	// DurationSeconds is the provider's whole-call duration (menu and queue included).
	DurationSeconds int        `json:"duration_seconds"`
	RecordingURL    *string    `json:"recording_url"`
	AnsweredAt      *time.Time `json:"answered_at,omitempty"`
	EndedAt         *time.Time `json:"ended_at,omitempty"`
	Operator        string     `json:"operator,omitempty"`
	// Result is how the call ended for the caller: CallAnswered, CallAbandoned, CallVoicemail,
	// CallCallback, or nil while it is not known.
	Result *string `json:"result"`
	// WaitSeconds runs from arrival to the answer (or to the hang-up of an unanswered call).
	WaitSeconds *int `json:"wait_seconds"`
	// TalkSeconds runs from the answer to the hang-up.
	TalkSeconds   *int    `json:"talk_seconds"`
	AnsweredBy    *string `json:"answered_by"`
	TransferredTo *string `json:"transferred_to"`
}

// How a call ended for the caller.
const (
	CallAnswered  = "answered"
	CallAbandoned = "abandoned"
	CallVoicemail = "voicemail"
	CallCallback  = "callback"
)

// Message is one item of a contact's thread, inbound or outbound.
type Message struct {
	ID          string       `json:"id"`
	ContactID   string       `json:"contact_id"`
	Direction   Direction    `json:"direction"`
	Channel     Kind         `json:"channel"`
	From        string       `json:"from"`
	To          string       `json:"to"`
	Subject     string       `json:"subject,omitempty"`
	Body        string       `json:"body"`
	Attachments []Attachment `json:"attachments,omitempty"`
	ExternalID  string       `json:"external_id,omitempty"`
	// Email threading headers, kept for every message so answers find their contact.
	MessageID  string   `json:"message_id,omitempty"`
	InReplyTo  string   `json:"in_reply_to,omitempty"`
	References []string `json:"references,omitempty"`
	// Delivery state of an outbound message: queued, sent, delivered, failed ...
	Status string `json:"status,omitempty"`
	// Delivery is what the recipient's side confirmed of an outbound message (DeliveryAccepted,
	// DeliveryDelivered, DeliveryFailed; queued and sent too), nil while nothing is known; PEC
	// receipts, SMS callbacks and App IO's status set it.
	Delivery *string `json:"delivery"`
	// DeliveryDueAt is when an outbound message that expects a delivery receipt is overdue
	// without one; DeliveryOverdue says that time passed with no final receipt.
	DeliveryDueAt   *time.Time `json:"delivery_due_at,omitempty"`
	DeliveryOverdue bool       `json:"delivery_overdue,omitempty"`
	// PEC is the certification of an inbound PEC envelope.
	PEC       *PECInfo  `json:"pec,omitempty"`
	Error     string    `json:"error,omitempty"`
	Author    string    `json:"author,omitempty"`
	Notes     []string  `json:"notes,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Attachment is a file that came with a message. Data is held only while it travels from the
// adapter to the store; MMS media are known by URL only.
type Attachment struct {
	ID          string `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Pages       *int   `json:"pages"`
	SHA256      string `json:"sha256,omitempty"`
	URL         string `json:"url,omitempty"`
	Data        []byte `json:"-"`
}
