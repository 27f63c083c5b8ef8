package desk

import (
	"context"
	"strings"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
)

// UpdateDelivery applies a provider's status callback to the outbound message with that id
// (channels.DeliverySink). Ids that are not ours (alerts) are ignored. A callback that beats
// the worker recording the provider's id, on this replica or another, is held in the database
// and applied when the id is recorded (takeEarlyDelivery).
func (d *Desk) UpdateDelivery(ctx context.Context, u channels.DeliveryUpdate) error {
	if u.ExternalID == "" || u.Status == "" {
		return nil
	}
	if u.Channel == "" {
		u.Channel = channels.SMS
	}
	status, errText := deliveryState(u)
	contactID, found, held, err := d.o.Store.ApplyOrHoldDelivery(ctx, u.Channel, u.ExternalID, status, errText)
	if err != nil {
		return err
	}
	if found {
		d.delivered(ctx, u.Channel, status, contactID)
		return nil
	}
	if !held {
		return nil
	}
	// The sender may have recorded the id after our look and taken nothing before our hold
	// committed: look once more, now that the hold is visible to it.
	if found, err := d.applyDeliveryFound(ctx, u); err != nil || !found {
		return err
	}
	_, _, _, err = d.o.Store.TakeEarlyDelivery(ctx, u.Channel, u.ExternalID)
	return err
}

// takeEarlyDelivery applies a callback held for a provider id just recorded.
func (d *Desk) takeEarlyDelivery(ctx context.Context, ch channels.Kind, externalID string) error {
	status, errText, ok, err := d.o.Store.TakeEarlyDelivery(ctx, ch, externalID)
	if err != nil || !ok {
		return err
	}
	contactID, found, err := d.o.Store.UpdateDeliveryStatus(ctx, ch, externalID, status, errText)
	if err == nil && found {
		d.delivered(ctx, ch, status, contactID)
	}
	return err
}

// heldDeliveriesLimit bounds one pass of ApplyHeldDeliveries; the next pass takes the rest.
const heldDeliveriesLimit = 200

// ApplyHeldDeliveries applies callbacks held for provider ids that are recorded now: the
// replica that recorded one stopped, or its database failed, before it took them.
func (d *Desk) ApplyHeldDeliveries(ctx context.Context) error {
	held, err := d.o.Store.RecordedHeldDeliveries(ctx, heldDeliveriesLimit)
	if err != nil {
		return err
	}
	for _, h := range held {
		if err := d.takeEarlyDelivery(ctx, h.Channel, h.ExternalID); err != nil {
			return err
		}
	}
	return nil
}

func deliveryState(u channels.DeliveryUpdate) (status, errText string) {
	if u.ErrorCode != "" && u.ErrorCode != "0" {
		errText = "provider error " + u.ErrorCode
	}
	return strings.ToLower(u.Status), errText
}

func (d *Desk) applyDeliveryFound(ctx context.Context, u channels.DeliveryUpdate) (bool, error) {
	status, errText := deliveryState(u)
	contactID, found, err := d.o.Store.UpdateDeliveryStatus(ctx, u.Channel, u.ExternalID, status, errText)
	if err != nil || !found {
		return found, err
	}
	d.delivered(ctx, u.Channel, status, contactID)
	return true, nil
}

// delivered counts and publishes a delivery state applied to a contact's message.
func (d *Desk) delivered(ctx context.Context, ch channels.Kind, status, contactID string) {
	switch status {
	case store.OutDelivered:
		d.count(string(ch), "delivered")
	case store.OutFailed, store.OutUndelivered:
		d.count(string(ch), status)
	}
	d.publish(ctx, events.ContactUpdated, contactID, nil)
}
