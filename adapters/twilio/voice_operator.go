package twilio

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
)

// CallDesk is the routing core's side of a Twilio call (the desk implements it; the gateway
// wires it). The adapter tells it what Twilio reported; it decides who gets the call.
type CallDesk interface {
	// CallQueued: the caller is in the queue; offer the call to whoever holds the contact, or
	// assign it now.
	CallQueued(ctx context.Context, contactID string)
	// CallMissed: operator was offered the call (the offer named offer) and did not take it;
	// the call goes back to the queue, and the operator is turned away. It reports false, and
	// changes nothing, when that offer is no longer the call's (it expired and the call went
	// back to the queue, or to someone else, without this news). CallQueued then offers the
	// call to the next operator.
	CallMissed(ctx context.Context, contactID, operator, offer string) (bool, error)
	// CallbackRequested: the caller left the queue asking to be called back.
	CallbackRequested(ctx context.Context, contactID string)
	// CallAnsweredBy is who answered the call under the offer named offer ("" when nobody has,
	// or that offer is not the call's latest; offer "" asks about any).
	CallAnsweredBy(ctx context.Context, contactID, offer string) (string, error)
	// CallRecorded joins an answered call's recording (its provider id) to the contact.
	CallRecorded(ctx context.Context, contactID, recordingSid string) error
	// CallInfo is the call's queue (its category) and what an operator's phone hears before
	// taking it.
	CallInfo(ctx context.Context, contactID string) (queue, whisper string)
}

// voiceHandlers are the webhooks of a call on its way to an operator, below /webhooks/twilio/voice/.
// The contact and operator travel in the query string, which Twilio signs with the rest.

// afterAnswer runs work on the desk once the webhook has answered Twilio (the desk may move
// the call by REST; doing so while Twilio waits for this answer would race with it).
// Echo runs after-functions after every write, the error handler's included: the work runs
// once, and only when Twilio got its TwiML.
func (w *Webhooks) afterAnswer(c echo.Context, f func(ctx context.Context)) {
	ctx := context.WithoutCancel(c.Request().Context())
	resp := c.Response()
	var once sync.Once
	resp.After(func() {
		if resp.Status/100 == 2 {
			once.Do(func() { go f(ctx) })
		}
	})
}

// voiceQueued is the <Enqueue action>: how the caller left the queue.
func (w *Webhooks) voiceQueued(c echo.Context) error {
	f := c.Request().PostForm
	if err := required(f, "CallSid", "QueueResult"); err != nil {
		return err
	}
	ctx := c.Request().Context()
	sid := f.Get("CallSid")
	var qt *int
	if n, err := strconv.Atoi(f.Get("QueueTime")); err == nil && n >= 0 {
		qt = &n
	}
	now := w.o.Now().UTC()
	var ev channels.CallEvent
	switch res := f.Get("QueueResult"); res {
	case "hangup":
		// Abandoned while waiting: the wait is Twilio's QueueTime.
		ev = channels.CallEvent{Status: "completed", EndedAt: &now, WaitSeconds: qt, Result: channels.CallAbandoned}
	case "bridged":
		ev = channels.CallEvent{Status: "in-progress", AnsweredAt: &now, WaitSeconds: qt}
	case "leave":
		// The caller asked to be called back (the wait document's offer).
		ev = channels.CallEvent{Status: "callback", EndedAt: &now, WaitSeconds: qt, Result: channels.CallCallback}
	default:
		// redirected (offered to an operator), queue-full, system-error...: not an answer.
		w.o.Logger.Debug("call left the queue", "call", sid, "result", res)
		return w.render(c, "voice/connected.xml", nil)
	}
	id, err := w.o.Calls.UpdateCall(ctx, channels.Phone, sid, ev)
	if err != nil && !errors.Is(err, channels.ErrUnknownCall) {
		return err
	}
	if ev.Result == channels.CallCallback {
		if w.o.Desk != nil && id != "" {
			w.afterAnswer(c, func(ctx context.Context) { w.o.Desk.CallbackRequested(ctx, id) })
		}
		return w.render(c, "voice/callback_booked.xml", nil)
	}
	return w.render(c, "voice/connected.xml", nil)
}

// voiceLeg is the <Client url> of the operator's browser leg: the document Twilio runs on the
// leg once the browser answers, before it bridges the caller. The answer is the call's, unless
// the offer expired meanwhile (the call went back to the queue, maybe to another operator): the
// leg is then hung up, never bridged, as a phone's whisper is. Calls offered before the <Client
// url> was used post here as the leg's statusCallback, where the TwiML answered is ignored.
func (w *Webhooks) voiceLeg(c echo.Context) error {
	f := c.Request().PostForm
	if err := required(f, "CallSid", "CallStatus"); err != nil {
		return err
	}
	if f.Get("CallStatus") == "in-progress" {
		if err := w.answered(c, f.Get("ParentCallSid")); errors.Is(err, channels.ErrStaleOffer) {
			return w.render(c, "voice/whisper_refused.xml", nil)
		} else if err != nil {
			return err
		}
	}
	return w.render(c, "voice/connected.xml", nil)
}

// answered records that the operator in the query took the call under the offer in the query.
// It is channels.ErrStaleOffer when that offer expired meanwhile: the call went back to the
// queue (and maybe to another operator), and a late answer must not take it from there.
func (w *Webhooks) answered(c echo.Context, parentSid string) error {
	op := c.QueryParam("operator")
	if parentSid == "" || op == "" {
		return nil
	}
	now := w.o.Now().UTC()
	_, err := w.o.Calls.UpdateCall(c.Request().Context(), channels.Phone, parentSid,
		channels.CallEvent{Status: "in-progress", AnsweredAt: &now, Operator: op, Offer: c.QueryParam("offer")})
	switch {
	case errors.Is(err, channels.ErrUnknownCall):
		return nil
	case errors.Is(err, channels.ErrStaleOffer):
		w.o.Logger.Info("an answer came for an offer that had expired", "call", parentSid, "operator", op, "offer", c.QueryParam("offer"))
	}
	return err
}

// voiceWhisper is what an operator's phone hears when it answers: accept with 1, or the call
// goes on to the next operator (a voicemail never presses 1).
func (w *Webhooks) voiceWhisper(c echo.Context) error {
	text := "Chiamata per Linea Comune"
	if w.o.Desk != nil {
		if _, t := w.o.Desk.CallInfo(c.Request().Context(), c.QueryParam("contact")); t != "" {
			text = t
		}
	}
	q := url.Values{"contact": {c.QueryParam("contact")}, "operator": {c.QueryParam("operator")}, "offer": {c.QueryParam("offer")}}
	return w.render(c, "voice/whisper.xml", map[string]any{"Text": text,
		"AcceptURL": w.callbackURL("/webhooks/twilio/voice/whisper/accept?" + q.Encode())})
}

// voiceWhisperAccept takes the operator's key: 1 connects the caller, unless the offer expired
// meanwhile (the operator's phone is then hung up, as when they do not press 1).
func (w *Webhooks) voiceWhisperAccept(c echo.Context) error {
	f := c.Request().PostForm
	if f.Get("Digits") != "1" {
		return w.render(c, "voice/whisper_refused.xml", nil)
	}
	if err := w.answered(c, f.Get("ParentCallSid")); errors.Is(err, channels.ErrStaleOffer) {
		return w.render(c, "voice/whisper_refused.xml", nil)
	} else if err != nil {
		return err
	}
	return w.render(c, "voice/connected.xml", nil)
}

// voiceDialed is the <Dial action> of an offer: talk ended, or nobody took the call. News of an
// offer that is no longer the call's (it expired: the desk's sweep put the call back in the
// queue, and maybe offered it to someone else) changes nothing; the caller, if Twilio still
// waits for this answer, goes back to the queue, where the desk's records have them.
func (w *Webhooks) voiceDialed(c echo.Context) error {
	f := c.Request().PostForm
	if err := required(f, "CallSid", "DialCallStatus"); err != nil {
		return err
	}
	ctx := c.Request().Context()
	sid, contactID, op, offer := f.Get("CallSid"), c.QueryParam("contact"), c.QueryParam("operator"), c.QueryParam("offer")
	status := f.Get("DialCallStatus")
	who := ""
	if w.o.Desk != nil && contactID != "" {
		var err error
		if who, err = w.o.Desk.CallAnsweredBy(ctx, contactID, offer); err != nil {
			return err
		}
	}
	now := w.o.Now().UTC()
	switch {
	case who != "" && (status == "completed" || status == "answered"):
		// The operator and the caller talked; one of them hung up.
		if _, err := w.o.Calls.UpdateCall(ctx, channels.Phone, sid, channels.CallEvent{Status: "completed", EndedAt: &now}); err != nil && !errors.Is(err, channels.ErrUnknownCall) {
			return err
		}
		return w.render(c, "voice/hangup.xml", nil)
	case status == "canceled" || w.o.Desk == nil || contactID == "":
		// The caller hung up while the operator's leg rang: the status callback ends the call.
		return w.render(c, "voice/hangup.xml", nil)
	}
	// no-answer, busy, failed, or a whisper nobody accepted: back to the queue, next operator.
	missed, err := w.o.Desk.CallMissed(ctx, contactID, op, offer)
	if err != nil {
		return err
	}
	if missed {
		w.afterAnswer(c, func(ctx context.Context) { w.o.Desk.CallQueued(ctx, contactID) })
	} else {
		w.o.Logger.Info("a <Dial> ended for an offer that is no longer the call's", "call", sid, "operator", op, "offer", offer,
			"status", status)
	}
	queue, _ := w.o.Desk.CallInfo(ctx, contactID)
	return w.render(c, "voice/enqueue.xml", w.enqueueData(contactID, queue, "", nil, true))
}

// enqueueData is what voice/enqueue.xml needs.
func (w *Webhooks) enqueueData(contactID, queue, label string, alerts []string, requeued bool) map[string]any {
	if queue == "" {
		queue = "altro"
	}
	q := url.Values{"contact": {contactID}}
	return map[string]any{
		"Alerts":    alerts,
		"Label":     label,
		"Queue":     queue,
		"Requeued":  requeued,
		"WaitURL":   w.callbackURL("/webhooks/twilio/voice/wait?" + q.Encode()),
		"ActionURL": w.callbackURL("/webhooks/twilio/voice/queued?" + q.Encode()),
	}
}

// voiceWaitOffer is the caller's answer to the callback offer: 1 leaves the queue.
func (w *Webhooks) voiceWaitOffer(c echo.Context) error {
	if c.Request().PostForm.Get("Digits") == "1" {
		return w.render(c, "voice/leave.xml", nil)
	}
	return w.render(c, "voice/connected.xml", nil)
}

// voiceCallbackStatus follows a callback call (operator first, then the citizen).
func (w *Webhooks) voiceCallbackStatus(c echo.Context) error {
	w.o.Logger.Debug("callback call progress", "call", c.Request().PostForm.Get("CallSid"),
		"status", c.Request().PostForm.Get("CallStatus"), "contact", c.QueryParam("contact"))
	return w.render(c, "voice/connected.xml", nil)
}

// voiceHoldWait is what a caller on hold hears.
func (w *Webhooks) voiceHoldWait(c echo.Context) error {
	return w.render(c, "voice/hold_wait.xml", nil)
}

// voiceRecorded is the recordingStatusCallback of an answered call's recording.
func (w *Webhooks) voiceRecorded(c echo.Context) error {
	f := c.Request().PostForm
	if err := required(f, "RecordingSid"); err != nil {
		return err
	}
	if f.Get("RecordingStatus") != "" && f.Get("RecordingStatus") != "completed" {
		return w.render(c, "voice/connected.xml", nil)
	}
	if w.o.Desk != nil && c.QueryParam("contact") != "" {
		if err := w.o.Desk.CallRecorded(c.Request().Context(), c.QueryParam("contact"), f.Get("RecordingSid")); err != nil {
			return err
		}
	}
	return w.render(c, "voice/connected.xml", nil)
}
