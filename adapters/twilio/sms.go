package twilio

import (
	"fmt"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
)

// maxMedia bounds the MMS media we read from one webhook (Twilio sends at most 10).
const maxMedia = 10

// sms stores an inbound SMS (or answers a keyword) and only then answers TwiML.
func (w *Webhooks) sms(c echo.Context) error {
	f := c.Request().PostForm
	if err := required(f, "MessageSid", "From"); err != nil {
		return err
	}
	in := channels.InboundMessage{
		Channel:    channels.SMS,
		ExternalID: f.Get("MessageSid"),
		From:       w.phones.NormalizeOrRaw(f.Get("From")),
		To:         w.phones.NormalizeOrRaw(f.Get("To")),
		Body:       f.Get("Body"),
		ReceivedAt: w.o.Now().UTC(),
	}
	n, _ := strconv.Atoi(f.Get("NumMedia"))
	for i := 0; i < n && i < maxMedia; i++ {
		u := f.Get(fmt.Sprintf("MediaUrl%d", i))
		if u == "" {
			continue
		}
		in.Attachments = append(in.Attachments, channels.Attachment{
			Filename:    fmt.Sprintf("media-%d", i),
			ContentType: f.Get(fmt.Sprintf("MediaContentType%d", i)),
			URL:         u,
		})
	}
	ctx := c.Request().Context()
	if w.o.Keywords != nil {
		reply, handled, err := w.o.Keywords.HandleSMS(ctx, in)
		if err != nil {
			return err
		}
		if handled {
			return w.replyTwiML(c, reply)
		}
	}
	r, err := w.o.Sink.Receive(ctx, in)
	if err != nil {
		return err
	}
	if w.o.AutoReplies != nil && !r.Duplicate {
		return w.replyTwiML(c, w.o.AutoReplies.AutoReplySMS(ctx, in, r))
	}
	return w.replyTwiML(c, "")
}

func (w *Webhooks) replyTwiML(c echo.Context, reply string) error {
	if reply == "" {
		return w.render(c, "sms/empty.xml", nil)
	}
	return w.render(c, "sms/reply.xml", map[string]string{"Body": reply})
}

// messageStatus records delivery news about an outbound message.
func (w *Webhooks) messageStatus(c echo.Context) error {
	f := c.Request().PostForm
	if err := required(f, "MessageSid", "MessageStatus"); err != nil {
		return err
	}
	if w.o.Deliveries != nil {
		err := w.o.Deliveries.UpdateDelivery(c.Request().Context(), channels.DeliveryUpdate{
			ExternalID: f.Get("MessageSid"), Status: f.Get("MessageStatus"), ErrorCode: f.Get("ErrorCode"), Channel: channels.SMS,
			CallbackQuery: c.Request().URL.RawQuery})
		if err != nil {
			return err
		}
	}
	return w.render(c, "sms/empty.xml", nil)
}
