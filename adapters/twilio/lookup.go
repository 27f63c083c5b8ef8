package twilio

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// LookupSkew is how much earlier than the caller's "since" Twilio may date a message: its
// dates have whole seconds, and clocks differ.
const LookupSkew = 30 * time.Second

// MessageLookup reads Twilio's message list (GET Messages.json?To=..., newest first): how a
// send interrupted by a crash, a shutdown or a timeout is settled without sending it twice.
// Twilio's Messages API has no idempotency key, so its own record is the only safe evidence.
// It does not filter by DateSent: a message Twilio accepted but has not sent yet has none.
type MessageLookup struct {
	BaseURL    string // "" = https://api.twilio.com
	AccountSID string
	AuthToken  string
	Client     *http.Client // nil: a client with a 15 s timeout
}

type listedMessage struct {
	Sid         string `json:"sid"`
	To          string `json:"to"`
	Body        string `json:"body"`
	DateCreated string `json:"date_created"`
}

// FindSent returns the sids of messages to `to` with exactly `body` that Twilio created at or
// after since (less LookupSkew), newest first; none means the message never reached Twilio.
func (l *MessageLookup) FindSent(ctx context.Context, to, body string, since time.Time) ([]string, error) {
	base := strings.TrimRight(l.BaseURL, "/")
	if base == "" {
		base = "https://api.twilio.com"
	}
	client := l.Client
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	q := url.Values{"To": {to}, "PageSize": {"100"}}
	u := base + "/2010-04-01/Accounts/" + url.PathEscape(l.AccountSID) + "/Messages.json?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(l.AccountSID, l.AuthToken)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("twilio: message list: HTTP %d: %.200s", resp.StatusCode, b)
	}
	var page struct {
		Messages []listedMessage `json:"messages"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		return nil, fmt.Errorf("twilio: message list: %w", err)
	}
	var out []string
	for _, m := range page.Messages {
		if m.To != to || m.Body != body {
			continue
		}
		created, err := time.Parse(time.RFC1123Z, m.DateCreated)
		if err != nil {
			return nil, fmt.Errorf("twilio: message %s: date_created %q: %w", m.Sid, m.DateCreated, err)
		}
		if !created.Before(since.Add(-LookupSkew)) {
			out = append(out, m.Sid)
		}
	}
	return out, nil
}
