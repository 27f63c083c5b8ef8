package alerts

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/sportello/sportello/gsm7"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// maxSMSChars is Twilio's limit on a message body (error 21617).
const maxSMSChars = 1600

// AlertRequest is an alert as a comune asks for it, from JSON, CAP or the supervisors' page.
type AlertRequest struct {
	Category string
	Message  string
	// MessageEN is the English text for subscribers who subscribed in English; "" uses Message.
	MessageEN string
	Topics    []string
	// SendAt nil means now; ExpiresAt nil means no expiry.
	SendAt    *time.Time
	ExpiresAt *time.Time
	// GSM7Safe rewrites the text to the GSM-7 alphabet (È -> E', € -> EUR) so one character
	// does not double the cost.
	GSM7Safe bool
	// Source is api, cap or page; CreatedBy the key id or username.
	Source    string
	CreatedBy string
	// ExternalRef makes creation idempotent per comune (CAP sender+identifier, Idempotency-Key).
	ExternalRef string
	// Supersede is the id of an alert this one replaces (CAP Update).
	Supersede string
	// Urgent sends even during alerts.quiet_hours; any other alert due then waits for their end.
	Urgent bool
	// Channels are "sms" and "app_io", in any order; nil means SMS only. With App IO, a
	// subscriber whose fiscal code's profile accepts the comune's service gets an App IO
	// message and no SMS; the others an SMS, where a phone is known (and SMS is named).
	Channels []string
}

// templateData is what an alert template sees.
type templateData struct {
	Message     string
	Comune      string
	ComuneShort string
	Category    string
}

func render(t *template.Template, d templateData) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// Preview is an alert composed but not stored: the texts subscribers will receive and their cost.
type Preview struct {
	TextIT     string        `json:"text"`
	TextEN     string        `json:"text_en"`
	Segments   gsm7.Segments `json:"cost"`
	SegmentsEN gsm7.Segments `json:"cost_en"`
	Recipients int           `json:"recipients"`
	// SendAt is when the alert would go if sent now (later than now in the quiet hours);
	// QuietHeld says the quiet hours postponed it.
	SendAt    time.Time `json:"send_at"`
	QuietHeld bool      `json:"quiet_held"`
}

// Compose validates a request and renders its texts through the comune's templates. Every
// problem is a *RequestError naming the field.
func (s *Service) Compose(comune string, req AlertRequest) (alertstore.Alert, error) {
	info, ok := s.comuni[comune]
	if !ok {
		return alertstore.Alert{}, notFound("comune %q not found", comune)
	}
	req.Category = strings.TrimSpace(req.Category)
	if req.Category == "" {
		return alertstore.Alert{}, invalid("missing_category", "category is required (one of: %s)", strings.Join(s.categoryIDs(), ", "))
	}
	if !s.categories[req.Category] {
		return alertstore.Alert{}, invalid("unknown_category", "unknown category %q (one of: %s)", req.Category, strings.Join(s.categoryIDs(), ", "))
	}
	req.Message = strings.TrimSpace(req.Message)
	req.MessageEN = strings.TrimSpace(req.MessageEN)
	if req.Message == "" {
		return alertstore.Alert{}, invalid("empty_message", "message is empty")
	}
	max := s.o.Config.Alerts.MaxMessageChars
	for field, m := range map[string]string{"message": req.Message, "message_en": req.MessageEN} {
		if !utf8.ValidString(m) {
			return alertstore.Alert{}, invalid("invalid_message", "%s is not valid UTF-8", field)
		}
		if n := utf8.RuneCountInString(m); n > max {
			return alertstore.Alert{}, invalid("message_too_long", "%s has %d characters; at most %d are allowed", field, n, max)
		}
	}
	topics, err := s.Topics(comune, req.Topics)
	if err != nil {
		return alertstore.Alert{}, err
	}
	now := s.now()
	var sendAt time.Time
	if req.SendAt != nil {
		if req.SendAt.Before(now.Add(-s.o.SendAtGrace)) {
			return alertstore.Alert{}, invalid("send_at_in_past", "send_at %s is in the past", req.SendAt.UTC().Format(time.RFC3339))
		}
		sendAt = req.SendAt.UTC()
	}
	start := now
	if sendAt.After(now) {
		start = sendAt
	}
	// Quiet hours: nobody gets a non-urgent alert at 03:00; it goes when the window ends.
	var held bool
	if !req.Urgent {
		if end, in := s.o.Config.AlertQuietHours().Until(start, s.o.Config.Location); in {
			sendAt, start, held = end.UTC(), end.UTC(), true
		}
	}
	if req.ExpiresAt != nil && !req.ExpiresAt.After(start) {
		return alertstore.Alert{}, invalid("expires_before_send", "expires_at %s is not after the send time", req.ExpiresAt.UTC().Format(time.RFC3339))
	}
	data := templateData{Message: req.Message, Comune: info.cfg.Name, ComuneShort: info.shortName, Category: req.Category}
	textIT, err := render(info.templates["it"], data)
	if err != nil {
		return alertstore.Alert{}, err
	}
	if req.MessageEN != "" {
		data.Message = req.MessageEN
	}
	textEN, err := render(info.templates["en"], data)
	if err != nil {
		return alertstore.Alert{}, err
	}
	if req.GSM7Safe {
		textIT, textEN = gsm7.Rewrite(textIT), gsm7.Rewrite(textEN)
	}
	for _, t := range []string{textIT, textEN} {
		if n := utf8.RuneCountInString(t); n > maxSMSChars {
			return alertstore.Alert{}, invalid("message_too_long", "the text with the comune's template has %d characters; an SMS carries at most %d", n, maxSMSChars)
		}
	}
	chans, err := s.channelsOf(comune, req.Channels)
	if err != nil {
		return alertstore.Alert{}, err
	}
	seg := gsm7.CountSegments(textIT)
	a := alertstore.Alert{Comune: comune, Category: req.Category, Message: req.Message, MessageEN: req.MessageEN, TextIT: textIT, TextEN: textEN,
		Topics: topics, GSM7Safe: req.GSM7Safe, Segments: seg.Segments, Encoding: seg.Encoding, Source: req.Source, CreatedBy: req.CreatedBy,
		ExternalRef: req.ExternalRef, SendAt: sendAt, Urgent: req.Urgent, QuietHeld: held, Channels: chans}
	if req.ExpiresAt != nil {
		e := req.ExpiresAt.UTC()
		a.ExpiresAt = &e
	}
	return a, nil
}

// channelsOf validates an alert's channels: known, not repeated, App IO only for a comune with
// an App IO key. SMS only is nil.
func (s *Service) channelsOf(comune string, in []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, c := range in {
		c = strings.ToLower(strings.TrimSpace(c))
		switch c {
		case alertstore.ChannelSMS, alertstore.ChannelAppIO:
		default:
			return nil, invalid("unknown_channel", "unknown channel %q (sms, app_io)", c)
		}
		if seen[c] {
			continue
		}
		seen[c] = true
		out = append(out, c)
	}
	if len(in) > 0 && len(out) == 0 {
		return nil, invalid("no_channel", "channels is empty")
	}
	if seen[alertstore.ChannelAppIO] && (s.o.AppIO == nil || !s.o.AppIO.Enabled(comune)) {
		return nil, invalid("app_io_unavailable", "comune %s has no App IO service key (comuni[].app_io.api_key)", comune)
	}
	if len(out) == 1 && out[0] == alertstore.ChannelSMS {
		return nil, nil
	}
	return out, nil
}

func (s *Service) categoryIDs() []string {
	out := make([]string, 0, len(s.o.Config.Categories))
	for _, c := range s.o.Config.Categories {
		out = append(out, c.ID)
	}
	return out
}

// Preview composes an alert and counts its audience without storing anything.
func (s *Service) Preview(ctx context.Context, comune string, req AlertRequest) (Preview, error) {
	a, err := s.Compose(comune, req)
	if err != nil {
		return Preview{}, err
	}
	n, err := s.as.CountAudienceFor(ctx, comune, a.Topics, a.Channels)
	if err != nil {
		return Preview{}, err
	}
	sendAt := a.SendAt
	if sendAt.IsZero() {
		sendAt = s.now().UTC()
	}
	return Preview{TextIT: a.TextIT, TextEN: a.TextEN, Segments: gsm7.CountSegments(a.TextIT), SegmentsEN: gsm7.CountSegments(a.TextEN), Recipients: n,
		SendAt: sendAt, QuietHeld: a.QuietHeld}, nil
}

// CreateAlert composes and stores an alert; one due now starts at once. existing is true when
// the ExternalRef was used before: that earlier alert is returned and nothing new is created.
func (s *Service) CreateAlert(ctx context.Context, comune string, req AlertRequest) (a alertstore.Alert, existing bool, err error) {
	if req.ExternalRef != "" {
		if prev, err := s.as.AlertByExternalRef(ctx, comune, req.ExternalRef); err == nil {
			return prev, true, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return alertstore.Alert{}, false, err
		}
	}
	a, err = s.Compose(comune, req)
	if err != nil {
		return alertstore.Alert{}, false, err
	}
	if req.Supersede != "" {
		if _, err := s.as.GetAlert(ctx, comune, req.Supersede); errors.Is(err, store.ErrNotFound) {
			return alertstore.Alert{}, false, notFound("alert %s not found", req.Supersede)
		} else if err != nil {
			return alertstore.Alert{}, false, err
		}
	}
	start := s.startOptions()
	a, err = s.as.CreateAlert(ctx, a, alertstore.CreateAlertOptions{BatchSize: start.BatchSize, Enqueue: start.Enqueue, Prepare: start.Prepare,
		Owner: start.Owner, Supersede: req.Supersede})
	if errors.Is(err, store.ErrConflict) && req.ExternalRef != "" {
		prev, err := s.as.AlertByExternalRef(ctx, comune, req.ExternalRef)
		return prev, err == nil, err
	}
	if err != nil {
		return alertstore.Alert{}, false, err
	}
	s.publishProgress(ctx, a.ID, comune, true)
	if req.Supersede != "" {
		s.publishProgress(ctx, req.Supersede, comune, true)
	}
	return a, false, nil
}

// CancelAlert stops what an alert has not sent yet. Another comune's alert is not found.
func (s *Service) CancelAlert(ctx context.Context, comune, id string) (alertstore.Alert, error) {
	a, err := s.as.EndAlert(ctx, comune, id, alertstore.AlertCancelled)
	if errors.Is(err, store.ErrNotFound) {
		return alertstore.Alert{}, notFound("alert %s not found", id)
	}
	if err == nil {
		s.publishProgress(ctx, a.ID, a.Comune, true)
	}
	return a, err
}

// AlertStatus is an alert with where its recipients stand.
type AlertStatus struct {
	alertstore.Alert
	Counts alertstore.AlertCounts
	// ByChannel splits Counts by the channel each recipient was reached on ("sms", "app_io";
	// "" = not sent yet), for alerts that may use App IO; nil otherwise.
	ByChannel map[string]alertstore.AlertCounts
}

// GetAlert reads a comune's alert ("" = any comune) with its counts.
func (s *Service) GetAlert(ctx context.Context, comune, id string) (AlertStatus, error) {
	a, err := s.as.GetAlert(ctx, comune, id)
	if errors.Is(err, store.ErrNotFound) {
		return AlertStatus{}, notFound("alert %s not found", id)
	}
	if err != nil {
		return AlertStatus{}, err
	}
	c, err := s.as.CountRecipients(ctx, id)
	if err != nil {
		return AlertStatus{}, err
	}
	if a.Status == alertstore.AlertScheduled {
		c.Queued = a.Recipients
	}
	st := AlertStatus{Alert: a, Counts: c}
	if a.UsesAppIO() && a.Status != alertstore.AlertScheduled {
		if st.ByChannel, err = s.as.ChannelCounts(ctx, id); err != nil {
			return AlertStatus{}, err
		}
	}
	return st, nil
}

// ListAlerts lists alerts newest first; a bad cursor is a RequestError.
func (s *Service) ListAlerts(ctx context.Context, f alertstore.AlertFilter) ([]alertstore.Alert, string, error) {
	list, next, err := s.as.ListAlerts(ctx, f)
	if errors.Is(err, store.ErrBadCursor) {
		return nil, "", invalid("invalid_cursor", "cursor is not one this API returned")
	}
	return list, next, err
}
