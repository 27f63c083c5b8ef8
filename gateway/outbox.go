package gateway

import (
	"context"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
)

// outboxSender keeps outbound messages in the local outbox when their channel has no real
// sender configured (SMS without Twilio credentials, email and fax without a relay): they are
// stored, shown in the thread and on the outbox page, never dropped.
type outboxSender struct{ s *store.Store }

func (o *outboxSender) Send(ctx context.Context, m channels.OutboundMessage) (channels.SendResult, error) {
	id, err := o.s.PutOutbox(ctx, store.OutboxMessage{Channel: string(m.Channel), To: m.To, From: m.From, Subject: m.Subject, Body: m.Body})
	if err != nil {
		return channels.SendResult{}, err
	}
	return channels.SendResult{ExternalID: id, Status: store.OutOutbox}, nil
}
