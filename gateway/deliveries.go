package gateway

import (
	"context"
	"errors"

	"github.com/sportello/sportello/channels"
)

// deliverySinks hands each status callback to every interested part (replies, alerts); each
// ignores ids that are not its own. A part that can claim a callback (deliveryClaimer) is asked
// first, and a claimed callback goes no further.
type deliverySinks []channels.DeliverySink

// deliveryClaimer is a sink that tells whether a callback was about one of its own messages.
type deliveryClaimer interface {
	ClaimDelivery(ctx context.Context, u channels.DeliveryUpdate) (bool, error)
}

func (d deliverySinks) UpdateDelivery(ctx context.Context, u channels.DeliveryUpdate) error {
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
