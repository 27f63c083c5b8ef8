package desk

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/router"
	"github.com/sportello/sportello/store"
)

// CallConnector moves live calls through the provider's REST API (the Twilio adapter's Calls).
type CallConnector interface {
	// Offer dials the operator (phone, SIP address, or browser when phone is "") for a queued call.
	Offer(ctx context.Context, callSid, contactID, username, phone string) error
	// Transfer sends a live call to a number (cold transfer).
	Transfer(ctx context.Context, callSid, contactID, number string) error
	// Hold parks a live call in a queue of its own, away from the operator's leg.
	Hold(ctx context.Context, callSid, contactID string) error
	// CallBack calls the operator, then the citizen; it returns the new call's id.
	CallBack(ctx context.Context, contactID, username, phone, citizen, callerID string) (string, error)
}

// SetCallConnector lets assignments reach live calls: a queued call assigned to an operator is
// dialled to them, a call resolved as transferred_phone is transferred.
func (d *Desk) SetCallConnector(c CallConnector) { d.calls = c }

// Call statuses the desk acts on (Twilio's own are ringing, in-progress, completed...).
const (
	callQueued  = "queued"
	callOffered = "offered"
	callOnHold  = "on-hold"
)

// twilioCallSid tells a Twilio call from a PBX's (the CTI's call ids are the PBX's own).
var twilioCallSid = regexp.MustCompile(`^CA[0-9a-fA-F]{32}$`)

// offerCall dials the operator a queued call was just assigned to. Anything else (a message, a
// PBX call, a call still in the menu) is left alone; the menu offers it once it is queued.
func (d *Desk) offerCall(ctx context.Context, contactID, username string) {
	if d.calls == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	lc, err := d.o.Store.LiveCallOf(ctx, contactID)
	if errors.Is(err, store.ErrNotFound) {
		return
	}
	if err != nil {
		d.o.Logger.Error("reading a call to offer failed", "contact", contactID, "err", err)
		return
	}
	if lc.Status != callQueued || lc.Assignee != username || !twilioCallSid.MatchString(lc.ExternalID) {
		return
	}
	if ok, err := d.o.Store.SetCallStatusIf(ctx, contactID, callQueued, callOffered); err != nil || !ok {
		if err != nil {
			d.o.Logger.Error("marking a call offered failed", "contact", contactID, "err", err)
		}
		return
	}
	phone, err := d.o.Store.UserPhone(ctx, username)
	if err != nil {
		d.o.Logger.Error("reading an operator's phone failed", "operator", username, "err", err)
		return
	}
	if err := d.calls.Offer(ctx, lc.ExternalID, contactID, username, phone); err != nil {
		// The caller hung up meanwhile, or Twilio could not be reached: the call stays queued
		// (the status callback closes a call that is gone).
		d.o.Logger.Warn("offering a call to an operator failed", "contact", contactID, "operator", username, "err", err)
		if _, err := d.o.Store.SetCallStatusIf(ctx, contactID, callOffered, callQueued); err != nil {
			d.o.Logger.Error("returning a call to the queue failed", "contact", contactID, "err", err)
		}
		return
	}
	d.publish(ctx, events.ContactUpdated, contactID, strpOrNil(lc.Comune))
}

func strpOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CallQueued offers a call the caller just queued for (after the menu) to whoever holds it, or
// assigns it now.
func (d *Desk) CallQueued(ctx context.Context, contactID string) {
	lc, err := d.o.Store.LiveCallOf(ctx, contactID)
	if err != nil {
		d.o.Logger.Error("reading a queued call failed", "contact", contactID, "err", err)
		return
	}
	if lc.Assignee != "" {
		d.offerCall(ctx, contactID, lc.Assignee)
		return
	}
	if _, err := d.AssignWaiting(ctx, contactID); err != nil {
		d.o.Logger.Error("assigning a queued call failed", "contact", contactID, "err", err)
	}
}

// CallMissed returns a call the operator did not take to the queue, turns the operator away
// (they are not at their desk) and offers the call to the next operator.
func (d *Desk) CallMissed(ctx context.Context, contactID, operator string) {
	var comune *string
	changed := false
	err := d.o.Store.WriteAlone(ctx, func(ctx context.Context, tx *store.Tx) error {
		changed = false
		if err := d.o.Store.LockAssignments(ctx, tx); err != nil {
			return err
		}
		h, err := d.o.Store.ContactHeadTx(ctx, tx, contactID, store.Scope{})
		if err != nil {
			return err
		}
		comune = h.Comune
		if changed, err = d.o.Store.UnassignTx(ctx, tx, contactID, operator); err != nil || !changed {
			return err
		}
		if err := d.o.Store.AuditTx(ctx, tx, store.AuditEntry{Actor: store.AuditSystem, Action: store.AuditUnassign,
			ContactID: &contactID, Target: operator, Detail: "call not answered"}); err != nil {
			return err
		}
		op, err := d.o.Store.OperatorTx(ctx, tx, operator)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if op.Presence != router.PresenceAvailable {
			return nil
		}
		if _, err := d.o.Store.SetPresenceTx(ctx, tx, op.ID, router.PresenceAway); err != nil {
			return err
		}
		return d.o.Store.AuditTx(ctx, tx, store.AuditEntry{Actor: store.AuditSystem, Action: store.AuditPresence,
			Target: router.PresenceAway, Detail: operator + " did not answer a call"})
	})
	if err != nil {
		d.o.Logger.Error("returning a missed call to the queue failed", "contact", contactID, "err", err)
		return
	}
	if changed {
		d.publish(ctx, events.ContactUpdated, contactID, comune)
		d.publish(ctx, events.QueueChanged, "", comune)
	}
	if _, err := d.AssignWaiting(ctx, contactID); err != nil {
		d.o.Logger.Error("offering a missed call to the next operator failed", "contact", contactID, "err", err)
	}
}

// CallbackRequested: the caller left the queue to be called back; the contact waits for an
// operator like any other (the routing core assigns it; the operator calls back with one click).
func (d *Desk) CallbackRequested(ctx context.Context, contactID string) {
	if _, err := d.AssignWaiting(ctx, contactID); err != nil {
		d.o.Logger.Error("assigning a callback failed", "contact", contactID, "err", err)
	}
}

// CallAnsweredBy is who answered the call ("" when nobody has).
func (d *Desk) CallAnsweredBy(ctx context.Context, contactID string) (string, error) {
	lc, err := d.o.Store.LiveCallOf(ctx, contactID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return lc.Operator, err
}

// CallInfo is the call's queue (its category) and the whisper an operator's phone hears:
// "Chiamata per contravvenzioni, Comune di Firenze".
func (d *Desk) CallInfo(ctx context.Context, contactID string) (queue, whisper string) {
	lc, err := d.o.Store.LiveCallOf(ctx, contactID)
	if err != nil {
		return "", ""
	}
	whisper = "Chiamata per Linea Comune"
	for _, c := range d.o.Config.Categories {
		if c.ID == lc.Category && lc.Category != "" {
			whisper = "Chiamata per " + strings.ToLower(c.Name)
		}
	}
	if cm, ok := d.o.Config.ComuneByID(lc.Comune); ok && lc.Comune != "" {
		whisper += ", " + cm.Name
	}
	return lc.Category, whisper
}

// transferCall moves a live Twilio call to a number after a transferred_phone resolution and
// records where it went.
func (d *Desk) transferCall(ctx context.Context, contactID, number string) {
	if d.calls == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	lc, err := d.o.Store.LiveCallOf(ctx, contactID)
	if err != nil || !twilioCallSid.MatchString(lc.ExternalID) {
		return
	}
	switch lc.Status {
	case "in-progress", callOffered, callQueued:
	default:
		return
	}
	if err := d.calls.Transfer(ctx, lc.ExternalID, contactID, number); err != nil {
		d.o.Logger.Warn("transferring a live call failed", "contact", contactID, "number", number, "err", err)
		return
	}
	// The operator's talk ends with the transfer; the office's talk is not the centre's.
	now := d.now()
	if _, err := d.o.Store.UpdateCall(ctx, channels.Phone, lc.ExternalID, store.CallUpdate{Status: "transferred", EndedAt: &now,
		TransferredTo: number}); err != nil {
		d.o.Logger.Error("recording a transfer failed", "contact", contactID, "err", err)
	}
	d.publish(ctx, events.ContactUpdated, contactID, strpOrNil(lc.Comune))
}

// CallBack calls a citizen back for a phone contact: the operator's phone or browser rings
// first, then the citizen's number. It returns the new call's id.
func (d *Desk) CallBack(ctx context.Context, u store.User, contactID string) (string, error) {
	if d.calls == nil {
		return "", fail(503, "channel_unavailable", "no voice provider is configured")
	}
	c, err := d.o.Store.GetContact(ctx, contactID, u.Scope())
	if err != nil {
		return "", notFoundAs(err, "contact")
	}
	citizen := c.From
	if c.Direction == channels.Outbound {
		citizen = c.To
	}
	if c.Channel != channels.Phone && c.Channel != channels.SMS {
		return "", badRequest("not_a_call", "only phone and SMS contacts can be called back")
	}
	if !isE164(citizen) {
		return "", badRequest("unreachable", "the citizen's number %q cannot be called", citizen)
	}
	if channels.IsCostly(citizen) {
		return "", badRequest("costly_number", "%s is a premium-rate or shared-cost number: it is not called back", citizen)
	}
	callerID := c.To
	if c.Direction == channels.Outbound || !isE164(callerID) {
		callerID = d.o.Config.Twilio.From
	}
	phone, err := d.o.Store.UserPhone(ctx, u.Username)
	if err != nil {
		return "", err
	}
	sid, err := d.calls.CallBack(ctx, contactID, u.Username, phone, citizen, callerID)
	if err != nil {
		return "", fail(502, "provider_error", "the call could not be placed: %v", err)
	}
	if err := d.o.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return d.o.Store.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: "callback", ContactID: &contactID,
			Target: citizen, Detail: sid})
	}); err != nil {
		return sid, err
	}
	return sid, nil
}

// isE164 reports whether s is a number Twilio can dial: already in E.164 form.
func isE164(s string) bool {
	n, err := channels.NormalizePhone(s)
	return err == nil && n == s
}

// Hold puts the operator's live call on hold (hold=true) or brings it back to them: the call is
// parked in a Twilio queue of its own, and resuming offers it to the operator again (their
// phone or browser rings; answering resumes the conversation). Talk time runs on through the
// hold: the caller is still being served.
func (d *Desk) Hold(ctx context.Context, u store.User, contactID string, hold bool) error {
	if d.calls == nil {
		return fail(503, "channel_unavailable", "no voice provider is configured")
	}
	if _, err := d.o.Store.ContactHead(ctx, contactID, u.Scope()); err != nil {
		return notFoundAs(err, "contact")
	}
	lc, err := d.o.Store.LiveCallOf(ctx, contactID)
	if errors.Is(err, store.ErrNotFound) {
		return badRequest("not_a_call", "the contact is not a call")
	}
	if err != nil {
		return err
	}
	if lc.Assignee != u.Username {
		return conflict("the call is not yours")
	}
	if !twilioCallSid.MatchString(lc.ExternalID) {
		return badRequest("not_a_call", "the call is not a Twilio call (a PBX holds its own calls)")
	}
	if hold {
		if lc.Status != "in-progress" {
			return conflict("the call is %s, not in progress", lc.Status)
		}
		if ok, err := d.o.Store.SetCallStatusIf(ctx, contactID, "in-progress", callOnHold); err != nil || !ok {
			return errOr(err, conflict("the call changed meanwhile"))
		}
		if err := d.calls.Hold(ctx, lc.ExternalID, contactID); err != nil {
			if _, rerr := d.o.Store.SetCallStatusIf(ctx, contactID, callOnHold, "in-progress"); rerr != nil {
				// The call stays live but recorded on hold: say so, the operator's next action needs it.
				d.o.Logger.Error("a call whose hold failed is still recorded on hold", "contact", contactID, "err", rerr)
			}
			return fail(502, "provider_error", "the call could not be put on hold: %v", err)
		}
	} else {
		if lc.Status != callOnHold {
			return conflict("the call is not on hold")
		}
		if ok, err := d.o.Store.SetCallStatusIf(ctx, contactID, callOnHold, callQueued); err != nil || !ok {
			return errOr(err, conflict("the call changed meanwhile"))
		}
		d.offerCall(ctx, contactID, u.Username)
	}
	d.publish(ctx, events.ContactUpdated, contactID, strpOrNil(lc.Comune))
	return nil
}

func errOr(err error, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// dialTimeout bounds the request to the PBX's click-to-dial URL.
const dialTimeout = 10 * time.Second

// CanDial reports whether the contact page offers click-to-dial: a PBX dial URL, or Twilio.
func (d *Desk) CanDial() bool { return d.o.Config.CTI.DialURL != "" || d.calls != nil }

// Dial calls the citizen of a contact from the operator's own telephone. With cti.dial_url
// the PBX places the call (its {number}, {user} and {contact} are filled in and the URL is
// requested); the PBX then reports the call on the CTI webhook and its answer pops the
// contact on the operator's inbox. Without a PBX, Twilio calls back (CallBack). It returns
// how the call was placed ("pbx" or Twilio's CallSid).
func (d *Desk) Dial(ctx context.Context, u store.User, contactID string) (string, error) {
	dialURL := d.o.Config.CTI.DialURL
	if dialURL == "" {
		return d.CallBack(ctx, u, contactID)
	}
	c, err := d.o.Store.GetContact(ctx, contactID, u.Scope())
	if err != nil {
		return "", notFoundAs(err, "contact")
	}
	citizen := c.From
	if c.Direction == channels.Outbound {
		citizen = c.To
	}
	if c.Channel != channels.Phone && c.Channel != channels.SMS || !isE164(citizen) {
		return "", badRequest("unreachable", "the citizen's number %q cannot be called", citizen)
	}
	target := strings.NewReplacer("{number}", url.QueryEscape(citizen), "{user}", url.QueryEscape(u.Username),
		"{contact}", url.QueryEscape(contactID)).Replace(dialURL)
	rctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, target, nil)
	if err != nil {
		return "", fail(502, "provider_error", "cti.dial_url is not a URL: %v", err)
	}
	resp, err := (&http.Client{Timeout: dialTimeout}).Do(req)
	if err != nil {
		return "", fail(502, "provider_error", "the PBX could not be reached: %v", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fail(502, "provider_error", "the PBX answered HTTP %d", resp.StatusCode)
	}
	if err := d.o.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return d.o.Store.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: "dial", ContactID: &contactID, Target: citizen, Detail: "pbx"})
	}); err != nil {
		return "", err
	}
	return "pbx", nil
}

// CallRecorded joins an answered call's recording to its contact.
func (d *Desk) CallRecorded(ctx context.Context, contactID, recordingSid string) error {
	if err := d.o.Store.SetCallRecording(ctx, contactID, recordingSid); err != nil {
		return err
	}
	d.publish(ctx, events.ContactUpdated, contactID, nil)
	return nil
}

// RecordingFetcher is a CallConnector that can also stream recordings (optional add-on).
type RecordingFetcher interface {
	Recording(ctx context.Context, recordingSid string) (io.ReadCloser, string, error)
}

// Recording streams the recording of a contact's answered call for a user who may see the
// contact; the caller closes it.
func (d *Desk) Recording(ctx context.Context, u store.User, contactID string) (io.ReadCloser, string, error) {
	if _, err := d.o.Store.ContactHead(ctx, contactID, u.Scope()); err != nil {
		return nil, "", notFoundAs(err, "contact")
	}
	sid, err := d.o.Store.CallRecordingSID(ctx, contactID)
	if err != nil {
		return nil, "", notFoundAs(err, "contact")
	}
	rf, ok := d.calls.(RecordingFetcher)
	if sid == "" || !ok {
		return nil, "", notFound("recording")
	}
	body, ct, err := rf.Recording(ctx, sid)
	if err != nil {
		return nil, "", fail(502, "provider_error", "the recording could not be fetched: %v", err)
	}
	return body, ct, nil
}
