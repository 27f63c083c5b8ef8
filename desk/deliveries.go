package desk

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
)

// UpdateDelivery applies a provider's status callback to the outbound message with that id
// (channels.DeliverySink). Ids that are not ours (alerts) are ignored; a callback that beats
// the worker recording the provider's id is kept for a minute and applied when it does.
func (d *Desk) UpdateDelivery(ctx context.Context, u channels.DeliveryUpdate) error {
	if u.ExternalID == "" || u.Status == "" {
		return nil
	}
	if u.Channel == "" {
		u.Channel = channels.SMS
	}
	found, err := d.applyDeliveryFound(ctx, u)
	if err == nil && !found {
		d.pending.put(u)
	}
	return err
}

func (d *Desk) applyDelivery(ctx context.Context, u channels.DeliveryUpdate) error {
	_, err := d.applyDeliveryFound(ctx, u)
	return err
}

func (d *Desk) applyDeliveryFound(ctx context.Context, u channels.DeliveryUpdate) (bool, error) {
	status := strings.ToLower(u.Status)
	errText := ""
	if u.ErrorCode != "" && u.ErrorCode != "0" {
		errText = "provider error " + u.ErrorCode
	}
	contactID, found, err := d.o.Store.UpdateDeliveryStatus(ctx, u.Channel, u.ExternalID, status, errText)
	if err != nil || !found {
		return found, err
	}
	switch status {
	case store.OutDelivered:
		d.count(string(u.Channel), "delivered")
	case store.OutFailed, store.OutUndelivered:
		d.count(string(u.Channel), status)
	}
	d.publish(ctx, events.ContactUpdated, contactID, nil)
	return true, nil
}

// pendingDeliveries holds callbacks for ids not known yet, bounded in size and age.
type pendingDeliveries struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	items map[string]pendingUpdate
}

type pendingUpdate struct {
	u  channels.DeliveryUpdate
	at time.Time
}

func newPendingDeliveries(max int, ttl time.Duration) *pendingDeliveries {
	return &pendingDeliveries{max: max, ttl: ttl, items: map[string]pendingUpdate{}}
}

func pendingKey(ch channels.Kind, id string) string { return string(ch) + "\x00" + id }

func (p *pendingDeliveries) put(u channels.DeliveryUpdate) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if len(p.items) >= p.max {
		for k, v := range p.items {
			if now.Sub(v.at) > p.ttl {
				delete(p.items, k)
			}
		}
		if len(p.items) >= p.max {
			return // a flood of foreign ids (alerts): dropping is what "ignore" means
		}
	}
	k := pendingKey(u.Channel, u.ExternalID)
	if prev, ok := p.items[k]; ok && store.DeliveryRank(prev.u.Status) > store.DeliveryRank(u.Status) {
		return
	}
	p.items[k] = pendingUpdate{u: u, at: now}
}

func (p *pendingDeliveries) take(ch channels.Kind, id string) (channels.DeliveryUpdate, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := pendingKey(ch, id)
	v, ok := p.items[k]
	if !ok {
		return channels.DeliveryUpdate{}, false
	}
	delete(p.items, k)
	if time.Since(v.at) > p.ttl {
		return channels.DeliveryUpdate{}, false
	}
	return v.u, true
}
