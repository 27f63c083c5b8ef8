package gateway

import (
	"context"
	"fmt"

	"github.com/sportello/sportello/adapters/twilio"
	"github.com/sportello/sportello/channels"
)

// wireSMS chooses the SMS sender: Twilio when credentials are configured, else the local
// outbox, so an SMS is never silently dropped.
func (g *Gateway) wireSMS(ctx context.Context) error {
	tw := g.Config.Twilio
	if !tw.Enabled() {
		g.Senders[channels.SMS] = &outboxSender{s: g.Store}
		g.Log.Info("no Twilio credentials: outbound SMS go to the local outbox")
		return nil
	}
	s, err := twilio.NewSender(twilio.SenderOptions{AccountSID: tw.AccountSID, AuthToken: tw.AuthToken, APIBaseURL: tw.APIBaseURL,
		From: tw.From, MessagingServiceSID: tw.MessagingServiceSID})
	if err != nil {
		return fmt.Errorf("twilio: %w", err)
	}
	g.Senders[channels.SMS] = s
	return nil
}
