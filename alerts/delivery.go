package alerts

import (
	"context"
	"net/url"
	"strconv"
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

// alertCallbackQuery is the query of an alert message's status callback address: it names
// the recipient, so a callback needs no lookup by the provider's id (whose random values made
// an index on them the costliest part of recording a fan-out's sends). The provider signs the
// whole address, so the names are as trustworthy as the rest of the callback.
func alertCallbackQuery(ref alertstore.RecipientRef) string {
	return "of=alert&alert=" + url.QueryEscape(ref.AlertID) + "&seq=" + strconv.FormatInt(ref.Seq, 10)
}

// recipientOfCallback reads the recipient an alert message's callback address names.
func recipientOfCallback(query string) (alertstore.RecipientRef, bool) {
	if query == "" {
		return alertstore.RecipientRef{}, false
	}
	q, err := url.ParseQuery(query)
	if err != nil || q.Get("of") != "alert" || q.Get("alert") == "" {
		return alertstore.RecipientRef{}, false
	}
	seq, err := strconv.ParseInt(q.Get("seq"), 10, 64)
	if err != nil || seq < 0 {
		return alertstore.RecipientRef{}, false
	}
	return alertstore.RecipientRef{AlertID: q.Get("alert"), Seq: seq}, true
}

// statusCallbackFor is the status callback address of the message to one recipient.
func (s *Service) statusCallbackFor(ref alertstore.RecipientRef) string {
	if s.o.StatusCallback == "" {
		return ""
	}
	return s.o.StatusCallback + "?" + alertCallbackQuery(ref)
}

// UpdateDelivery applies a status callback to the alert recipient its address names
// (channels.DeliverySink). A callback can arrive before the send's result is written: it is
// kept aside briefly, and applied when the result is.
func (s *Service) UpdateDelivery(ctx context.Context, u channels.DeliveryUpdate) error {
	_, err := s.ClaimDelivery(ctx, u)
	return err
}

// callbackPatience bounds how long the governor may hold a delivery callback: well within the
// provider's timeout for a callback's answer (15 s at Twilio).
const callbackPatience = time.Second

// ClaimDelivery is UpdateDelivery that also says whether the callback was about an alert's
// message (its address names a recipient), so the gateway need not hand it to other parts. An
// alert's callbacks come as fast as its sends: they use the fan-out's connections, and once
// claimed they cost the request path's pool nothing.
func (s *Service) ClaimDelivery(ctx context.Context, u channels.DeliveryUpdate) (bool, error) {
	if (u.Channel != "" && u.Channel != channels.SMS) || u.ExternalID == "" {
		return false, nil
	}
	ref, ok := recipientOfCallback(u.CallbackQuery)
	if !ok {
		return false, nil
	}
	status := deliveryStatus(u.Status)
	if status == "" {
		return true, nil
	}
	// As many as the sends, so bulk work like the fan-out's own writes: inbound traffic first,
	// and paced with the sends while people's writes are slowed.
	s.o.Store.BulkAtWork()
	s.governor.wait(time.Now().Add(callbackPatience))
	alertID, err := s.fas.UpdateRecipientDelivery(store.Bulk(ctx), ref, u.ExternalID, status, u.ErrorCode)
	if err != nil {
		return false, err
	}
	if alertID != "" {
		s.publishProgress(ctx, alertID, "", false)
	}
	return true, nil
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
