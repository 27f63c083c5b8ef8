package gateway

import (
	"context"
	"errors"

	"github.com/sportello/sportello/channels"
)

// deliverySinks hands each status callback to every interested part (replies, alerts); each
// ignores ids that are not its own.
type deliverySinks []channels.DeliverySink

func (d deliverySinks) UpdateDelivery(ctx context.Context, u channels.DeliveryUpdate) error {
	var errs []error
	for _, s := range d {
		if err := s.UpdateDelivery(ctx, u); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
