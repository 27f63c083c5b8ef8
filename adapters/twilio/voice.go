package twilio

import (
	"context"
	"errors"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
)

// voice answers a new call: the category menu within business hours, the closed-hours message
// and voicemail outside them. The call is stored before TwiML is returned.
func (w *Webhooks) voice(c echo.Context) error {
	f := c.Request().PostForm
	if err := required(f, "CallSid", "From"); err != nil {
		return err
	}
	to := w.phones.NormalizeOrRaw(f.Get("To"))
	comune, comuneName := w.o.ComuneOf(to)
	status := f.Get("CallStatus")
	if status == "" {
		status = "ringing"
	}
	_, err := w.o.Sink.Receive(c.Request().Context(), channels.InboundMessage{
		Channel:    channels.Phone,
		ExternalID: f.Get("CallSid"),
		From:       w.phones.NormalizeOrRaw(f.Get("From")),
		To:         to,
		Comune:     comune,
		Call:       &channels.Call{Status: status},
		ReceivedAt: w.o.Now().UTC(),
	})
	if err != nil {
		return err
	}
	if w.o.Hours != nil && !w.o.Hours.Open(comune, w.o.Now()) {
		return w.render(c, "voice/closed.xml", map[string]string{
			"Hours":        w.o.Hours.Describe(comune, "it"),
			"RecordingURL": w.callbackURL("/webhooks/twilio/voice/recording"),
		})
	}
	return w.render(c, "voice/welcome.xml", map[string]any{
		"ComuneName":       comuneName,
		"Record":           w.o.Record,
		"Menu":             w.o.Menu,
		"MenuURL":          w.callbackURL("/webhooks/twilio/voice/menu"),
		"DefaultChoiceURL": w.callbackURL("/webhooks/twilio/voice/menu?Default=1"),
	})
}

// voiceMenu applies the caller's choice and queues the call for an operator.
func (w *Webhooks) voiceMenu(c echo.Context) error {
	f := c.Request().PostForm
	if err := required(f, "CallSid"); err != nil {
		return err
	}
	ctx := c.Request().Context()
	item, ok := w.menuItem(f.Get("Digits"))
	if !ok && c.QueryParam("Default") == "" {
		return w.render(c, "voice/invalid.xml", map[string]string{"WelcomeURL": w.callbackURL("/webhooks/twilio/voice/menu?Default=1")})
	}
	if !ok {
		item = MenuItem{Category: "altro", Label: "informazioni"}
	}
	contactID, err := w.o.Calls.UpdateCall(ctx, channels.Phone, f.Get("CallSid"), channels.CallEvent{Status: "queued", Category: item.Category})
	if errors.Is(err, channels.ErrUnknownCall) {
		// A menu answer for a call we never saw: store it now rather than lose it.
		if _, err := w.o.Sink.Receive(ctx, channels.InboundMessage{Channel: channels.Phone, ExternalID: f.Get("CallSid"),
			From: w.phones.NormalizeOrRaw(f.Get("From")), To: w.phones.NormalizeOrRaw(f.Get("To")),
			Call: &channels.Call{Status: "queued"}, ReceivedAt: w.o.Now().UTC()}); err != nil {
			return err
		}
		contactID, err = w.o.Calls.UpdateCall(ctx, channels.Phone, f.Get("CallSid"), channels.CallEvent{Category: item.Category})
	}
	if err != nil {
		return err
	}
	var alerts []string
	if item.Category == "blocco-traffico" && w.o.Traffic != nil {
		comune, _ := w.o.ComuneOf(w.phones.NormalizeOrRaw(f.Get("To")))
		if alerts, err = w.o.Traffic.ActiveTrafficAlerts(ctx, comune); err != nil {
			w.o.Logger.Warn("reading traffic alerts for the phone menu failed", "err", err)
			alerts = nil
		}
	}
	if w.o.Desk != nil {
		w.afterAnswer(c, func(ctx context.Context) { w.o.Desk.CallQueued(ctx, contactID) })
	}
	return w.render(c, "voice/enqueue.xml", w.enqueueData(contactID, item.Category, item.Label, alerts, false))
}

func (w *Webhooks) menuItem(digits string) (MenuItem, bool) {
	for _, m := range w.o.Menu {
		if m.Digit == digits && digits != "" {
			return m, true
		}
	}
	return MenuItem{}, false
}

// voiceRecording joins a voicemail to its call.
func (w *Webhooks) voiceRecording(c echo.Context) error {
	f := c.Request().PostForm
	if err := required(f, "CallSid"); err != nil {
		return err
	}
	if u := f.Get("RecordingUrl"); u != "" {
		// The voicemail's own length is not talk time: the status callback reports the call's.
		ev := channels.CallEvent{Status: "voicemail", RecordingURL: u, Result: channels.CallVoicemail}
		if _, err := w.o.Calls.UpdateCall(c.Request().Context(), channels.Phone, f.Get("CallSid"), ev); err != nil && !errors.Is(err, channels.ErrUnknownCall) {
			return err
		}
	}
	return w.render(c, "voice/recorded.xml", nil)
}

// voiceWait keeps a waiting caller informed: their place in the queue, the expected wait
// (Twilio's average for the queue), and after voice.callback_offer_seconds the offer to be
// called back.
func (w *Webhooks) voiceWait(c echo.Context) error {
	f := c.Request().PostForm
	data := map[string]any{}
	if pos, err := strconv.Atoi(f.Get("QueuePosition")); err == nil && pos > 0 {
		data["Position"] = pos
		if avg, err := strconv.Atoi(f.Get("AvgQueueTime")); err == nil && avg > 0 {
			data["Minutes"] = max(1, (avg+30)/60)
		}
	}
	if offer := w.o.CallbackOfferSeconds; offer > 0 && c.QueryParam("contact") != "" {
		if waited, err := strconv.Atoi(f.Get("QueueTime")); err == nil && waited >= offer {
			data["OfferURL"] = w.callbackURL("/webhooks/twilio/voice/wait/offer?contact=" + url.QueryEscape(c.QueryParam("contact")))
		}
	}
	return w.render(c, "voice/wait.xml", data)
}

// voiceStatus records a call's final status, talk time and recording.
func (w *Webhooks) voiceStatus(c echo.Context) error {
	f := c.Request().PostForm
	if err := required(f, "CallSid", "CallStatus"); err != nil {
		return err
	}
	ev := channels.CallEvent{Status: f.Get("CallStatus"), RecordingURL: f.Get("RecordingUrl")}
	switch ev.Status {
	case "completed", "busy", "failed", "no-answer", "canceled":
		// The call is over: without an answer it was abandoned (the store derives it).
		now := w.o.Now().UTC()
		ev.EndedAt = &now
	}
	if d, err := strconv.Atoi(f.Get("CallDuration")); err == nil && d >= 0 {
		ev.Duration = &d
	}
	ctx := c.Request().Context()
	_, err := w.o.Calls.UpdateCall(ctx, channels.Phone, f.Get("CallSid"), ev)
	if errors.Is(err, channels.ErrUnknownCall) {
		// The status of a call whose start we missed: keep it as a contact of its own.
		call := &channels.Call{Status: ev.Status}
		if ev.Duration != nil {
			call.DurationSeconds = *ev.Duration
		}
		if ev.RecordingURL != "" {
			call.RecordingURL = &ev.RecordingURL
		}
		_, err = w.o.Sink.Receive(ctx, channels.InboundMessage{Channel: channels.Phone, ExternalID: f.Get("CallSid"),
			From: w.phones.NormalizeOrRaw(f.Get("From")), To: w.phones.NormalizeOrRaw(f.Get("To")),
			Call: call, ReceivedAt: w.o.Now().UTC()})
	}
	if err != nil {
		return err
	}
	return w.render(c, "sms/empty.xml", nil)
}
