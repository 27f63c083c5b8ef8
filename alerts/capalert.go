package alerts

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/sportello/sportello/alerts/cap"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// CAPResult is what a CAP document did.
type CAPResult struct {
	// Action is created (Alert), replaced (Update) or cancelled (Cancel).
	Action string
	Alert  alertstore.Alert
	// Existing is true when the same document (sender and identifier) was already received.
	Existing bool
}

// capRef is how an alert created from CAP is known: its sender and identifier.
func capRef(sender, identifier string) string { return "cap:" + sender + "," + identifier }

// SubmitCAP acts on a CAP 1.2 document for a comune: an Alert creates an alert, an Update
// replaces the alert it references (what that one has not sent is cancelled; the new text goes
// to everyone), a Cancel cancels the alerts it references. Only Actual, Public messages are sent.
func (s *Service) SubmitCAP(ctx context.Context, comune string, doc []byte, createdBy string) (CAPResult, error) {
	c, err := cap.Parse(doc)
	if err != nil {
		var ce *cap.Error
		if errors.As(err, &ce) {
			field := "invalid_cap"
			if strings.Contains(ce.Message, "is required") || strings.Contains(ce.Message, "is empty") {
				field = "cap_missing_field"
			}
			if strings.Contains(ce.Message, "not supported") || strings.Contains(ce.Message, "not CAP 1.2") || strings.Contains(ce.Message, "no namespace") {
				field = "cap_not_1_2"
			}
			return CAPResult{}, invalid(field, "%s", strings.TrimPrefix(err.Error(), "cap: "))
		}
		return CAPResult{}, err
	}
	if c.Status != "Actual" {
		return CAPResult{}, invalid("cap_not_actual", "status is %s: only Actual alerts are sent to citizens", c.Status)
	}
	if c.Scope != "Public" {
		return CAPResult{}, invalid("cap_not_public", "scope is %s: SMS alerts are Public", c.Scope)
	}
	switch c.MsgType {
	case "Alert", "Update":
		req, err := s.capRequest(comune, c)
		if err != nil {
			return CAPResult{}, err
		}
		req.CreatedBy = createdBy
		action := "created"
		if c.MsgType == "Update" {
			action = "replaced"
			prev, err := s.referenced(ctx, comune, c.References)
			if err != nil {
				return CAPResult{}, err
			}
			req.Supersede = prev[len(prev)-1].ID
		}
		a, existing, err := s.CreateAlert(ctx, comune, req)
		return CAPResult{Action: action, Alert: a, Existing: existing}, err
	case "Cancel":
		prev, err := s.referenced(ctx, comune, c.References)
		if err != nil {
			return CAPResult{}, err
		}
		var last alertstore.Alert
		for _, p := range prev {
			if last, err = s.CancelAlert(ctx, comune, p.ID); err != nil {
				return CAPResult{}, err
			}
		}
		return CAPResult{Action: "cancelled", Alert: last}, nil
	}
	return CAPResult{}, invalid("cap_msgtype", "msgType %s is not acted on (Alert, Update, Cancel)", c.MsgType)
}

// referenced finds the comune's alerts a CAP message references, in its order.
func (s *Service) referenced(ctx context.Context, comune string, refs []cap.Reference) ([]alertstore.Alert, error) {
	var out []alertstore.Alert
	for _, r := range refs {
		a, err := s.as.AlertByExternalRef(ctx, comune, capRef(r.Sender, r.Identifier))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, notFound("no alert of this comune matches the references %q", refsString(refs))
	}
	return out, nil
}

func refsString(refs []cap.Reference) string {
	parts := make([]string, len(refs))
	for i, r := range refs {
		parts[i] = r.Sender + "," + r.Identifier + "," + r.Sent
	}
	return strings.Join(parts, " ")
}

// capRequest turns a CAP alert into an alert request: the Italian info (else the first) gives
// the text (headline, then description) and the expiry; an English info gives the English text.
// The category is a parameter (category), else the event matched to a category by name or by
// its keywords; topics come from a topics parameter.
func (s *Service) capRequest(comune string, c *cap.Alert) (AlertRequest, error) {
	main := c.Infos[0]
	var en *cap.Info
	for i := range c.Infos {
		lang := strings.ToLower(c.Infos[i].Language)
		if strings.HasPrefix(lang, "it") {
			main = c.Infos[i]
			break
		}
	}
	for i := range c.Infos {
		if strings.HasPrefix(strings.ToLower(c.Infos[i].Language), "en") && c.Infos[i].Language != main.Language {
			en = &c.Infos[i]
			break
		}
	}
	// CAP's "Immediate" (responsive action now) is what the quiet hours must not hold back.
	req := AlertRequest{Source: "cap", ExternalRef: capRef(c.Sender, c.Identifier), ExpiresAt: main.Expires,
		Urgent: strings.EqualFold(main.Urgency, "Immediate")}
	req.Message = capText(main)
	if req.Message == "" {
		return req, invalid("cap_missing_field", "info has neither headline nor description: there is no text to send")
	}
	if en != nil {
		req.MessageEN = capText(*en)
	}
	if req.ExpiresAt != nil && !req.ExpiresAt.After(s.now()) {
		return req, invalid("cap_expired", "expires %s is in the past", req.ExpiresAt.Format("2006-01-02T15:04:05-07:00"))
	}
	if v, ok := main.Param("category", "categoria", "sportello:category"); ok {
		if !s.categories[v] {
			return req, invalid("unknown_category", "parameter category %q is not one of %s", v, strings.Join(s.categoryIDs(), ", "))
		}
		req.Category = v
	} else {
		req.Category = s.categoryOfEvent(main.Event, main.Headline)
	}
	if v, ok := main.Param("topics", "topic", "argomenti", "sportello:topics"); ok {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				req.Topics = append(req.Topics, t)
			}
		}
	}
	if v, ok := main.Param("gsm7_safe", "sportello:gsm7_safe"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return req, invalid("invalid_parameter", "parameter gsm7_safe %q is not true or false", v)
		}
		req.GSM7Safe = b
	}
	return req, nil
}

func capText(i cap.Info) string {
	switch {
	case i.Headline != "" && i.Description != "":
		return i.Headline + "\n" + i.Description
	case i.Headline != "":
		return i.Headline
	}
	return i.Description
}

// categoryOfEvent matches a CAP event to a category: by id or name, else by the categories'
// keywords over the event and the headline.
func (s *Service) categoryOfEvent(event, headline string) string {
	e := foldPhrase(event)
	for _, c := range s.o.Config.Categories {
		if e == foldPhrase(c.ID) || e == foldPhrase(strings.ReplaceAll(c.ID, "-", " ")) || e == foldPhrase(c.Name) {
			return c.ID
		}
	}
	return s.classifier.Classify(event + " " + headline)
}
