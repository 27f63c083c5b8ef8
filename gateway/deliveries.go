package gateway

import (
	"context"
	"errors"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
)

// deliverySinks hands each status callback to every interested part (replies, alerts); each
// ignores ids that are not its own. A part that can claim a callback (deliveryClaimer) is asked
// first, and a claimed callback goes no further.
type deliverySinks []channels.DeliverySink

// deliveryClaimer is a sink that tells whether a callback was about one of its own messages.
type deliveryClaimer interface {
	ClaimDelivery(ctx context.Context, u channels.DeliveryUpdate) (bool, error)
}

// UpdateDelivery hands a status callback to the claimers first, then to the other sinks.
//
// Status callbacks are bulk work (store.Bulk), whoever's message they are about: an alert's
// come as fast as its sends, and one whose send result is not recorded yet is not claimed and
// falls through to the replies' sink. As people's writes, they had made the fan-out's governor
// see people at work during every fan-out, and slow it with no citizen writing.
func (d deliverySinks) UpdateDelivery(ctx context.Context, u channels.DeliveryUpdate) error {
	ctx = store.Bulk(ctx)
	var errs []error
	claimers := map[channels.DeliverySink]bool{}
	for _, s := range d {
		c, ok := s.(deliveryClaimer)
		if !ok {
			continue
		}
		claimers[s] = true
		owned, err := c.ClaimDelivery(ctx, u)
		if err != nil {
			errs = append(errs, err)
		} else if owned {
			return nil
		}
	}
	for _, s := range d {
		if claimers[s] {
			continue
		}
		if err := s.UpdateDelivery(ctx, u); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
