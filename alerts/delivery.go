package alerts

import (
	"context"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// deliveryStatus maps Twilio's MessageStatus to a recipient status ("" = no news worth a
// write). "sent" is not news: the send's own result records it, or, if the process died before
// writing it, the crash settlement finds it at the provider.
func deliveryStatus(twilioStatus string) string {
	switch twilioStatus {
	case "delivered", "read":
		return alertstore.RecipientDelivered
	case "undelivered", "failed", "canceled":
		return alertstore.RecipientFailed
	}
	return ""
}

// UpdateDelivery applies a status callback to the alert recipient with that MessageSid
// (channels.DeliverySink). Callbacks about other messages are kept aside briefly, since a
// callback can arrive before the send's result is written, and then forgotten.
func (s *Service) UpdateDelivery(ctx context.Context, u channels.DeliveryUpdate) error {
	_, err := s.ClaimDelivery(ctx, u)
	return err
}

// callbackPatience bounds how long the governor may hold a delivery callback: well within the
// provider's timeout for a callback's answer (15 s at Twilio).
const callbackPatience = time.Second

// ClaimDelivery is UpdateDelivery that also says whether the callback was about an alert's
// message, so the gateway need not hand it to other parts. An alert's callbacks come as fast
// as its sends: they use the fan-out's connections, and once claimed they cost the request
// path's pool nothing.
func (s *Service) ClaimDelivery(ctx context.Context, u channels.DeliveryUpdate) (bool, error) {
	if (u.Channel != "" && u.Channel != channels.SMS) || u.ExternalID == "" || u.OfReply {
		return false, nil
	}
	status := deliveryStatus(u.Status)
	if status == "" {
		alertID, err := s.fas.AlertOfSID(ctx, u.ExternalID)
		return alertID != "", err
	}
	// As many as the sends, so bulk work like the fan-out's own writes: inbound traffic first,
	// and paced with the sends while people's writes are slowed.
	s.o.Store.BulkAtWork()
	s.governor.wait(time.Now().Add(callbackPatience))
	alertID, err := s.fas.UpdateRecipientDelivery(store.Bulk(ctx), u.ExternalID, status, u.ErrorCode)
	if err != nil {
		return false, err
	}
	if alertID != "" {
		s.publishProgress(ctx, alertID, "", false)
	}
	return alertID != "", nil
}

// ActiveTrafficAlerts lists the texts of a comune's traffic-block alerts in force, newest first
// (twilio.TrafficInfo, for the phone menu).
func (s *Service) ActiveTrafficAlerts(ctx context.Context, comune string) ([]string, error) {
	if comune == "" {
		return nil, nil
	}
	list, err := s.as.ActiveAlerts(ctx, comune, TrafficCategory, s.o.ActiveFor, 5)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.Message
	}
	return out, nil
}
