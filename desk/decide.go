package desk

import (
	"context"
	"strings"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/ingest"
	"github.com/sportello/sportello/router"
)

// Decide routes an inbound message before it is stored (ingest.Decider). The comune is the one
// the adapter already knows (the mailbox), else the owner of the number dialled or the address
// written to; on a shared or unknown number, the comune the text names, else the citizen's last
// known comune, else none ("to be decided" by the operator). The category comes from the
// subject and body; the queue is the first configured queue that matches, with its priority and
// SLA.
func (d *Desk) Decide(ctx context.Context, in channels.InboundMessage) ingest.Decision {
	text := strings.TrimSpace(in.Subject + "\n" + in.Body)
	comune := d.comuneOf(ctx, in, text)
	category := ""
	if text != "" {
		category = d.classifier.Classify(text)
	}
	received := in.ReceivedAt
	if received.IsZero() {
		received = d.now()
	}
	q := d.queues.Match(comune, category, in.Channel)
	return ingest.Decision{Comune: comune, Category: category, Queue: q.ID, Priority: q.Priority, SLADue: router.SLADue(q, received)}
}

func (d *Desk) comuneOf(ctx context.Context, in channels.InboundMessage, text string) string {
	if in.Comune != "" {
		return in.Comune
	}
	ours, citizen := in.To, in.From
	if in.Direction == channels.Outbound { // a call an operator placed: our number is the caller
		ours, citizen = in.From, in.To
	}
	if c, _ := d.comuni.ByAddress(ours); c != "" {
		return c
	}
	if c := d.comuni.InText(text); c != "" {
		return c
	}
	if citizen == "" {
		return ""
	}
	c, err := d.o.Store.LastComuneOf(ctx, channels.IdentityFor(in.Channel, citizen))
	if err != nil {
		// Routing goes on without it: the operator decides the comune.
		d.o.Logger.Warn("reading the citizen's last comune failed", "err", err)
		return ""
	}
	return c
}

// QueueFor is the queue, priority and SLA due time (from now) of a contact of that comune,
// category and channel; ingest uses it when a caller picks a category in the voice menu.
func (d *Desk) QueueFor(comune, category string, ch channels.Kind) (string, int, time.Time) {
	q := d.queues.Match(comune, category, ch)
	return q.ID, q.Priority, router.SLADue(q, d.now())
}
