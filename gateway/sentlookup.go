package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/sportello/sportello/adapters/twilio"
	"github.com/sportello/sportello/alerts"
	"github.com/sportello/sportello/channels"
)

// sentLookup asks whichever SMS sender is wired whether it holds a message: the local outbox's
// table, or Twilio's message list. Alerts settle interrupted fan-out sends with it, the desk
// interrupted replies.
type sentLookup struct {
	g      *Gateway
	twilio *twilio.MessageLookup
	outbox *alerts.OutboxLookup
}

func (g *Gateway) newSentLookup() *sentLookup {
	cfg := g.Config.Twilio
	return &sentLookup{g: g, outbox: &alerts.OutboxLookup{Store: g.Store},
		twilio: &twilio.MessageLookup{BaseURL: cfg.APIBaseURL, AccountSID: cfg.AccountSID, AuthToken: cfg.AuthToken, Client: &http.Client{Timeout: 15 * time.Second}}}
}

func (l *sentLookup) FindSent(ctx context.Context, to, body string, since time.Time) ([]string, error) {
	if _, ok := l.g.Senders[channels.SMS].(*outboxSender); ok {
		return l.outbox.FindSent(ctx, to, body, since)
	}
	if !l.g.Config.Twilio.Enabled() {
		return nil, errors.New("no Twilio credentials to look the message up with")
	}
	return l.twilio.FindSent(ctx, to, body, since)
}
