package gateway

import (
	"context"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
)

// outboxSender keeps outbound SMS in the local outbox when Twilio is not configured.
type outboxSender struct{ s *store.Store }

func (o *outboxSender) Send(ctx context.Context, m channels.OutboundMessage) (channels.SendResult, error) {
	id, err := o.s.PutOutbox(ctx, store.OutboxMessage{Channel: string(m.Channel), To: m.To, From: m.From, Body: m.Body})
	if err != nil {
		return channels.SendResult{}, err
	}
	return channels.SendResult{ExternalID: id, Status: "outbox"}, nil
}
