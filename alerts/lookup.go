package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sportello/sportello/store"
)

// Lookup asks the SMS provider which messages it accepted for a number: how a send
// interrupted by a crash or a timeout is settled without sending it twice. Twilio has no
// idempotency key for messages, so the only safe evidence is the provider's own record.
type Lookup interface {
	// FindSent returns the provider ids of messages to `to` with exactly `body` accepted at or
	// after since, newest first (none: the message never reached the provider).
	FindSent(ctx context.Context, to, body string, since time.Time) ([]string, error)
}

// lookupSkew is how much earlier than our "sending" mark the provider may date a message
// (its dates have whole seconds, and clocks differ).
const lookupSkew = 30 * time.Second

// TwilioLookup reads Twilio's message list (GET Messages.json?To=..., newest first). It does
// not filter by DateSent: a message Twilio accepted but has not sent yet has no date_sent.
type TwilioLookup struct {
	BaseURL    string // "" = https://api.twilio.com
	AccountSID string
	AuthToken  string
	Client     *http.Client
}

type twilioMessage struct {
	Sid         string `json:"sid"`
	To          string `json:"to"`
	Body        string `json:"body"`
	DateCreated string `json:"date_created"`
}

// FindSent implements Lookup.
func (l *TwilioLookup) FindSent(ctx context.Context, to, body string, since time.Time) ([]string, error) {
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
		return nil, fmt.Errorf("alerts: twilio message list: HTTP %d: %.200s", resp.StatusCode, b)
	}
	var page struct {
		Messages []twilioMessage `json:"messages"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		return nil, fmt.Errorf("alerts: twilio message list: %w", err)
	}
	var out []string
	for _, m := range page.Messages {
		if m.To != to || m.Body != body {
			continue
		}
		created, err := time.Parse(time.RFC1123Z, m.DateCreated)
		if err != nil {
			return nil, fmt.Errorf("alerts: twilio message %s: date_created %q: %w", m.Sid, m.DateCreated, err)
		}
		if !created.Before(since.Add(-lookupSkew)) {
			out = append(out, m.Sid)
		}
	}
	return out, nil
}

// OutboxLookup finds messages the local outbox kept (no Twilio credentials).
type OutboxLookup struct{ Store *store.Store }

// FindSent implements Lookup.
func (l *OutboxLookup) FindSent(ctx context.Context, to, body string, since time.Time) ([]string, error) {
	rows, err := l.Store.Query(ctx, "SELECT id FROM outbox WHERE to_addr = ? AND body = ? AND created_at >= ? ORDER BY created_at DESC",
		to, body, store.Micros(since.Add(-lookupSkew)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
