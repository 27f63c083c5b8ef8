package channels

import (
	"context"
	"strings"
	"unicode/utf8"
)

// App IO message states (GET /api/v1/messages/{fiscal_code}/{id}): PROCESSED is delivered to
// the citizen's app; REJECTED is refused for good; the rest are on the way.
const (
	AppIOProcessed = "PROCESSED"
	AppIORejected  = "REJECTED"
)

// AppIOMessage is one message to a citizen's App IO inbox, from a comune's service.
type AppIOMessage struct {
	Comune     string
	FiscalCode string
	Subject    string
	Markdown   string
}

// AppIOClient reaches citizens through the App IO service of their comune. Refusals are *SendError
// with Code the HTTP status: 429 and 5xx are temporary, other 4xx permanent.
type AppIOClient interface {
	// Enabled reports whether the comune has an App IO service key.
	Enabled(comune string) bool
	// Allowed asks App IO whether the citizen has a profile that accepts the comune's service;
	// a citizen without a profile is false, not an error.
	Allowed(ctx context.Context, comune, fiscalCode string) (bool, error)
	// SendIO hands a message over and returns App IO's id for it (accepted, processed later).
	SendIO(ctx context.Context, m AppIOMessage) (string, error)
	// IOStatus reads a message's state (AppIOProcessed, AppIORejected, or another on the way).
	IOStatus(ctx context.Context, comune, fiscalCode, id string) (string, error)
}

// App IO's bounds on a message (characters).
const (
	AppIOSubjectMin  = 10
	AppIOSubjectMax  = 120
	AppIOMarkdownMin = 80
	AppIOMarkdownMax = 10000
)

// FitAppIO brings a subject and a markdown text within App IO's bounds without losing what
// they say: a subject too short gets the sender's name (sender, e.g. "Comune di Firenze"), one
// too long is cut with "…"; a text too short gets a closing line naming the sender, one too long
// is cut with "…". Texts already within the bounds are returned as they are.
func FitAppIO(subject, markdown, sender string) (string, string) {
	subject = strings.Join(strings.Fields(subject), " ")
	if utf8.RuneCountInString(subject) < AppIOSubjectMin && sender != "" {
		subject = strings.TrimPrefix(subject+" - "+sender, " - ")
	}
	if utf8.RuneCountInString(subject) < AppIOSubjectMin {
		subject = strings.TrimSpace("Comunicazione " + subject)
	}
	subject = cutRunes(subject, AppIOSubjectMax)
	markdown = strings.TrimSpace(markdown)
	if utf8.RuneCountInString(markdown) < AppIOMarkdownMin {
		from := "da " + EscapeMarkdown(sender)
		if sender == "" {
			from = "dal suo Comune"
		}
		markdown = strings.TrimSpace(markdown + "\n\n---\n\n*Messaggio inviato " + from +
			" tramite App IO. Per rispondere usi i canali di contatto del Comune.*")
	}
	return subject, cutRunes(markdown, AppIOMarkdownMax)
}

// cutRunes cuts s to at most n characters, the last one "…" when it cut.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// EscapeMarkdown makes plain text print as written in App IO's markdown: the characters that
// would format it are escaped with a backslash.
func EscapeMarkdown(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>#|~", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// DeliveryOf is the delivery state an outbound message's status shows as (Message.Delivery):
// queued, sent, accepted, delivered or failed; nil for inbound messages and other statuses.
func DeliveryOf(d Direction, status string) *string {
	if d != Outbound {
		return nil
	}
	var v string
	switch status {
	case "queued", "sent", "accepted", "delivered", "failed":
		v = status
	case "undelivered":
		v = "failed"
	case "outbox":
		v = "sent"
	default:
		return nil
	}
	return &v
}
