package notifyapi

import (
	"time"

	"github.com/sportello/sportello/alerts"
	"github.com/sportello/sportello/gsm7"
	"github.com/sportello/sportello/store/alertstore"
)

// AlertJSON is an alert as the API shows it (contract 4.3, with more fields).
type AlertJSON struct {
	ID         string                  `json:"id"`
	Comune     string                  `json:"comune"`
	Category   string                  `json:"category"`
	Message    string                  `json:"message"`
	MessageEN  *string                 `json:"message_en"`
	Text       string                  `json:"text"`
	TextEN     string                  `json:"text_en"`
	Topics     []string                `json:"topics"`
	Status     string                  `json:"status"`
	Recipients int                     `json:"recipients"`
	Counts     *alertstore.AlertCounts `json:"counts,omitempty"`
	// Channels are the alert's channels (["sms"] unless it named others); CountsByChannel
	// splits counts by the channel each recipient was reached on (alerts that may use App IO).
	Channels        []string                          `json:"channels"`
	CountsByChannel map[string]alertstore.AlertCounts `json:"counts_by_channel,omitempty"`
	Segments        int                               `json:"segments"`
	Encoding        string                            `json:"encoding"`
	GSM7Safe        bool                              `json:"gsm7_safe"`
	Source          string                            `json:"source"`
	Replaces        *string                           `json:"replaces"`
	SendAt          time.Time                         `json:"send_at"`
	ExpiresAt       *time.Time                        `json:"expires_at"`
	StartedAt       *time.Time                        `json:"started_at"`
	FinishedAt      *time.Time                        `json:"finished_at"`
	CancelledAt     *time.Time                        `json:"cancelled_at"`
	CreatedAt       time.Time                         `json:"created_at"`
	// Stalled is set while a sending alert makes no progress (alerts.stall_after), else null.
	Stalled *StallJSON `json:"stalled"`
	// Urgent alerts ignore alerts.quiet_hours; QuietHeld: the quiet hours moved send_at to their end.
	Urgent    bool `json:"urgent"`
	QuietHeld bool `json:"quiet_held"`
}

// StallJSON says since when an alert is stalled and why.
type StallJSON struct {
	Since  time.Time `json:"since"`
	Reason string    `json:"reason"`
}

func alertJSON(a alertstore.Alert, counts *alertstore.AlertCounts) AlertJSON {
	topics := a.Topics
	if topics == nil {
		topics = []string{}
	}
	chans := a.Channels
	if len(chans) == 0 {
		chans = []string{alertstore.ChannelSMS}
	}
	return AlertJSON{Channels: chans, ID: a.ID, Comune: a.Comune, Category: a.Category, Message: a.Message, MessageEN: optional(a.MessageEN),
		Text: a.TextIT, TextEN: a.TextEN, Topics: topics, Status: a.Status, Recipients: a.Recipients, Counts: counts,
		Segments: a.Segments, Encoding: a.Encoding, GSM7Safe: a.GSM7Safe, Source: a.Source, Replaces: optional(a.Replaces),
		SendAt: a.SendAt, ExpiresAt: a.ExpiresAt, StartedAt: a.StartedAt, FinishedAt: a.FinishedAt, CancelledAt: a.CancelledAt,
		CreatedAt: a.CreatedAt, Stalled: stallJSON(a), Urgent: a.Urgent, QuietHeld: a.QuietHeld}
}

func stallJSON(a alertstore.Alert) *StallJSON {
	if a.StalledAt == nil {
		return nil
	}
	return &StallJSON{Since: *a.StalledAt, Reason: a.StallReason}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// AcceptedJSON answers a POST /alerts (contract: {"id","status","recipients"}).
type AcceptedJSON struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Recipients int    `json:"recipients"`
	// Action is created, replaced (CAP Update) or cancelled (CAP Cancel).
	Action    string        `json:"action"`
	Duplicate bool          `json:"duplicate"`
	Segments  int           `json:"segments"`
	Encoding  string        `json:"encoding"`
	Cost      gsm7.Segments `json:"cost"`
	Text      string        `json:"text"`
	// SendAt is when the alert goes: later than now when scheduled or held by the quiet hours.
	SendAt    time.Time `json:"send_at"`
	Urgent    bool      `json:"urgent"`
	QuietHeld bool      `json:"quiet_held"`
}

// AlertList is the list envelope.
type AlertList struct {
	Items      []AlertJSON `json:"items"`
	NextCursor string      `json:"next_cursor"`
}

// ConsentJSON is one consent record.
type ConsentJSON struct {
	Action string    `json:"action"`
	Via    string    `json:"via"`
	Actor  string    `json:"actor"`
	Comune *string   `json:"comune"`
	Topics []string  `json:"topics"`
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
}

// SubscriberJSON is a subscription with its consent trail.
type SubscriberJSON struct {
	// Phone is "" for a subscription by fiscal code alone.
	Phone       string        `json:"phone"`
	FiscalCode  *string       `json:"fiscal_code"`
	Comune      string        `json:"comune"`
	Status      string        `json:"status"`
	Topics      []string      `json:"topics"`
	Lang        string        `json:"lang"`
	Source      string        `json:"source"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
	ConfirmedAt *time.Time    `json:"confirmed_at"`
	Consents    []ConsentJSON `json:"consents"`
}

func subscriberJSON(v alerts.SubscriberView) SubscriberJSON {
	phone := v.Phone
	if alertstore.IsFiscalKey(phone) {
		phone = ""
	}
	out := SubscriberJSON{Phone: phone, FiscalCode: optional(v.FiscalCode), Comune: v.Comune, Status: v.Status, Topics: v.Topics, Lang: v.Lang, Source: v.Source,
		CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, ConfirmedAt: v.ConfirmedAt, Consents: []ConsentJSON{}}
	if out.Topics == nil {
		out.Topics = []string{}
	}
	for _, c := range v.Consents {
		topics := c.Topics
		if topics == nil {
			topics = []string{}
		}
		out.Consents = append(out.Consents, ConsentJSON{Action: c.Action, Via: c.Via, Actor: c.Actor, Comune: optional(c.Comune),
			Topics: topics, Detail: c.Detail, At: c.At})
	}
	return out
}
