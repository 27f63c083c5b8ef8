package desk

import (
	"context"
	"errors"
	"fmt"
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
	// Offer dials the operator (phone, SIP address, or browser when phone is "") for a queued
	// call. offer names the offer: the provider's callbacks about it carry it back (to
	// CallMissed, CallAnsweredBy and the answer's channels.CallEvent.Offer). An error wrapping
	// channels.ErrCallGone says the caller is gone; one wrapping channels.ErrOutcomeUnknown says
	// the operator may be ringing all the same (the request was sent, no answer came).
	Offer(ctx context.Context, callSid, contactID, username, phone, offer string) error
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

// maxOfferAttempts bounds how many operators in a row one queued call goes to when they turn out
// not to be free or the offer fails at the provider (Twilio unreachable, the caller gone): past
// that the call waits, unassigned, for the periodic drain (RunSLA) rather than going round every
// operator at once.
const maxOfferAttempts = 3

// offerCall dials the operator a queued call was just assigned to (by the router, a supervisor,
// or at ingest while the caller was in the menu). An operator who may no longer be dialled
// (deleted, not available, on another call), or an offer that fails, sends the call back to the
// queue and on to the next operator, at most attempts of them in a row. Anything else (a
// message, a PBX call, a call still in the menu) is left alone; the menu offers it once it is
// queued.
func (d *Desk) offerCall(ctx context.Context, contactID, username string, attempts int) {
	if d.calls == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	lc, ok := d.queuedCallOf(ctx, contactID, username)
	if !ok {
		return
	}
	dial, requeued, err := d.takeBackUnlessFree(ctx, contactID, username)
	switch {
	case err != nil:
		err = fmt.Errorf("checking the operator: %w", err)
	case requeued:
		d.publishRequeued(ctx, contactID, strpOrNil(lc.Comune))
		d.offerToNext(ctx, contactID, attempts-1)
		return
	case !dial:
		return // the call is no longer theirs: whoever took it offers it
	default:
		err = d.dialOperator(ctx, lc, username)
	}
	if err == nil {
		return
	}
	// Whatever failed, the call must not stay with someone whose phone never rang: nothing
	// else would offer it again.
	d.o.Logger.Warn("offering a call to an operator failed", "contact", contactID, "operator", username, "err", err)
	if err := d.returnCallToQueue(ctx, lc, username, "the call could not be offered"); err != nil {
		d.o.Logger.Error("returning a call to the queue failed", "contact", contactID, "err", err)
		return
	}
	d.offerToNext(ctx, contactID, attempts-1)
}

// offerToNext assigns a call that went back to the queue to the next operator, while attempts
// remain; otherwise it waits for the periodic drain.
func (d *Desk) offerToNext(ctx context.Context, contactID string, attempts int) {
	if attempts < 1 {
		return
	}
	if _, err := d.assignWaiting(ctx, contactID, attempts); err != nil {
		d.o.Logger.Error("offering a call to the next operator failed", "contact", contactID, "err", err)
	}
}

// queuedCallOf reads a contact's call when it is one the desk dials to username: a Twilio call
// waiting in the queue, assigned to them.
func (d *Desk) queuedCallOf(ctx context.Context, contactID, username string) (store.LiveCall, bool) {
	lc, err := d.o.Store.LiveCallOf(ctx, contactID)
	if errors.Is(err, store.ErrNotFound) {
		return lc, false
	}
	if err != nil {
		d.o.Logger.Error("reading a call to offer failed", "contact", contactID, "err", err)
		return lc, false
	}
	return lc, dialledOnAssign(lc) && lc.Assignee == username
}

// dialledOnAssign reports whether assigning the call dials the operator: a Twilio call waiting
// in the queue (a PBX rings its own operators; a call in the menu is offered once queued).
func dialledOnAssign(lc store.LiveCall) bool {
	return lc.Status == callQueued && twilioCallSid.MatchString(lc.ExternalID)
}

// whyNotFreeForCall says why an operator may not be dialled for a queued call, "" when they
// may. lookup is OperatorTx's error: only ErrNotFound (a deleted user) reaches here. A disabled
// user is offline (DisableUser sets it, and they cannot sign in to change it).
func whyNotFreeForCall(username string, op store.OperatorState, lookup error) string {
	switch {
	case lookup != nil:
		return username + " was deleted"
	case op.Presence != router.PresenceAvailable:
		return username + " is " + op.Presence
	case op.OnCall:
		return username + " is on another call"
	}
	return ""
}

// takeBackUnlessFree checks, under the assignment lock, that the operator a queued call is
// assigned to may still be dialled, and otherwise returns the call to the queue (audited).
// OperatorState.OnCall counts the call itself, so the call is taken back first and, when the
// operator is free, given back in the same transaction: then nothing changes. dial is false
// also when the call is no longer theirs.
func (d *Desk) takeBackUnlessFree(ctx context.Context, contactID, username string) (dial, requeued bool, err error) {
	err = d.o.Store.WriteAlone(ctx, func(ctx context.Context, tx *store.Tx) error {
		dial, requeued = false, false
		if err := d.o.Store.LockAssignments(ctx, tx); err != nil {
			return err
		}
		held, err := d.o.Store.UnassignTx(ctx, tx, contactID, username)
		if err != nil || !held {
			return err
		}
		op, err := d.o.Store.OperatorTx(ctx, tx, username)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if why := whyNotFreeForCall(username, op, err); why != "" {
			requeued = true
			return d.auditCallUnassignTx(ctx, tx, contactID, username, "call not offered: "+why)
		}
		dial = true
		// The operator's own stamp: giving the call back is not a new assignment.
		_, err = d.o.Store.AssignTx(ctx, tx, contactID, username, false, op.LastAssignedAt)
		return err
	})
	return dial, requeued, err
}

// dialOperator rings the operator for a queued call they hold and marks it offered (the
// compare-and-set lets one replica win; the mark names the offer and starts its deadline, see
// ExpireOffers). The phone is read before the call is marked: a failed read leaves nothing to
// undo. A failed offer puts the call back to queued and is a 502 provider_error; whoever called
// decides where the call goes next. A caller who hung up unnoticed (the status callback lost)
// is recorded gone, so the call is no longer dialled to anyone. An offer whose outcome is
// unknown (the request timed out, or its connection broke after sending) is no failure: Twilio
// may be ringing the operator, and ringing a second one now could have two operators answer one
// caller. It stands, as offered, until its callbacks come or ExpireOffers takes it back.
func (d *Desk) dialOperator(ctx context.Context, lc store.LiveCall, username string) error {
	phone, err := d.o.Store.UserPhone(ctx, username)
	if err != nil {
		return fmt.Errorf("reading %s's phone: %w", username, err)
	}
	offer, err := d.o.Store.MarkCallOffered(ctx, lc.ContactID, username)
	if err != nil || offer == "" {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, d.offerTimeouts.request)
	err = d.calls.Offer(rctx, lc.ExternalID, lc.ContactID, username, phone, offer)
	cancel()
	if errors.Is(err, channels.ErrOutcomeUnknown) {
		d.o.Logger.Warn("an offer's outcome is unknown: it stands until its callbacks or its deadline", "contact", lc.ContactID,
			"operator", username, "err", err)
		err = nil
	}
	if err != nil {
		// Twilio refused the offer, or the caller hung up meanwhile.
		if errors.Is(err, channels.ErrCallGone) {
			d.recordCallGone(ctx, lc)
		} else if _, rerr := d.o.Store.RequeueOffer(ctx, lc.ContactID, offer); rerr != nil {
			d.o.Logger.Error("a call whose offer failed is still recorded offered", "contact", lc.ContactID, "err", rerr)
		}
		return fail(http.StatusBadGateway, "provider_error", "the call could not be offered: %v", err)
	}
	d.publish(ctx, events.ContactUpdated, lc.ContactID, strpOrNil(lc.Comune))
	return nil
}

// recordCallGone ends a call the provider no longer has: its status callback never came (our
// replicas were down when Twilio sent it). Otherwise the call would wait in the queue for good,
// and every drain would offer it to operators in vain.
func (d *Desk) recordCallGone(ctx context.Context, lc store.LiveCall) {
	now := d.now()
	if _, err := d.o.Store.UpdateCall(ctx, channels.Phone, lc.ExternalID, store.CallUpdate{Status: "completed", EndedAt: &now}); err != nil {
		d.o.Logger.Error("recording a call the provider no longer has failed", "contact", lc.ContactID, "err", err)
		return
	}
	d.o.Logger.Warn("a call ended without its status callback: recorded completed", "contact", lc.ContactID)
}

// returnCallToQueue takes a call back from an operator it could not be offered to, and audits
// why.
func (d *Desk) returnCallToQueue(ctx context.Context, lc store.LiveCall, operator, why string) error {
	_, err := d.takeCallBack(ctx, lc, operator, why, nil)
	return err
}

// takeCallBack is returnCallToQueue that reports whether the call was taken back. When first
// is set it runs first, under the assignment lock and in the same transaction, and the call is
// taken back only if it reports true (a compare-and-set on the call, see ExpireOffers).
func (d *Desk) takeCallBack(ctx context.Context, lc store.LiveCall, operator, why string,
	first func(context.Context, *store.Tx) (bool, error)) (bool, error) {
	changed := false
	err := d.o.Store.WriteAlone(ctx, func(ctx context.Context, tx *store.Tx) error {
		changed = false
		if err := d.o.Store.LockAssignments(ctx, tx); err != nil {
			return err
		}
		if first != nil {
			if ok, err := first(ctx, tx); err != nil || !ok {
				return err
			}
		}
		var err error
		if changed, err = d.o.Store.UnassignTx(ctx, tx, lc.ContactID, operator); err != nil || !changed {
			return err
		}
		return d.auditCallUnassignTx(ctx, tx, lc.ContactID, operator, why)
	})
	if err == nil && changed {
		d.publishRequeued(ctx, lc.ContactID, strpOrNil(lc.Comune))
	}
	return changed && err == nil, err
}

// auditCallUnassignTx records that the system took a call back from an operator, and why.
func (d *Desk) auditCallUnassignTx(ctx context.Context, tx *store.Tx, contactID, operator, why string) error {
	return d.o.Store.AuditTx(ctx, tx, store.AuditEntry{Actor: store.AuditSystem, Action: store.AuditUnassign,
		ContactID: &contactID, Target: operator, Detail: why})
}

// publishRequeued tells open inboxes a call went back to the queue.
func (d *Desk) publishRequeued(ctx context.Context, contactID string, comune *string) {
	d.publish(ctx, events.ContactUpdated, contactID, comune)
	d.publish(ctx, events.QueueChanged, "", comune)
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
		d.offerCall(ctx, contactID, lc.Assignee, maxOfferAttempts)
		return
	}
	if _, err := d.AssignWaiting(ctx, contactID); err != nil {
		d.o.Logger.Error("assigning a queued call failed", "contact", contactID, "err", err)
	}
}

// CallMissed returns a call the operator did not take under the offer named offer to the
// queue and turns the operator away (they are not at their desk); CallQueued then offers the
// call to the next operator. It reports false, and changes nothing, when that offer is no
// longer the call's: it expired (ExpireOffers took the call back, and maybe offered it to
// someone else, even to the same operator), so this news is late and the call is where the
// sweep put it.
func (d *Desk) CallMissed(ctx context.Context, contactID, operator, offer string) (bool, error) {
	var comune *string
	requeued, changed := false, false
	err := d.o.Store.WriteAlone(ctx, func(ctx context.Context, tx *store.Tx) error {
		requeued, changed = false, false
		if err := d.o.Store.LockAssignments(ctx, tx); err != nil {
			return err
		}
		h, err := d.o.Store.ContactHeadTx(ctx, tx, contactID, store.Scope{})
		if err != nil {
			return err
		}
		comune = h.Comune
		if requeued, err = d.o.Store.RequeueOfferTx(ctx, tx, contactID, offer); err != nil || !requeued {
			return err
		}
		if changed, err = d.o.Store.UnassignTx(ctx, tx, contactID, operator); err != nil || !changed {
			return err
		}
		if err := d.auditCallUnassignTx(ctx, tx, contactID, operator, "call not answered"); err != nil {
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
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("returning a missed call to the queue: %w", err)
	}
	switch {
	case changed:
		d.publishRequeued(ctx, contactID, comune)
	case requeued:
		d.publish(ctx, events.ContactUpdated, contactID, comune)
	}
	return requeued, nil
}

// CallbackRequested: the caller left the queue to be called back; the contact waits for an
// operator like any other (the routing core assigns it; the operator calls back with one click).
func (d *Desk) CallbackRequested(ctx context.Context, contactID string) {
	if _, err := d.AssignWaiting(ctx, contactID); err != nil {
		d.o.Logger.Error("assigning a callback failed", "contact", contactID, "err", err)
	}
}

// CallAnsweredBy is who answered the call under the offer named offer ("" when nobody has, or
// that offer is not the call's latest; offer "" asks about any).
func (d *Desk) CallAnsweredBy(ctx context.Context, contactID, offer string) (string, error) {
	lc, err := d.o.Store.LiveCallOf(ctx, contactID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil || (offer != "" && offer != lc.Offer) {
		return "", err
	}
	return lc.Operator, nil
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
// hold: the caller is still being served. When the provider refuses either move the call stays
// as it was (in progress, or on hold) and the answer is 502 provider_error: the operator retries.
// A resume whose request got no answer stands, offered to the operator (see dialOperator).
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
		// The operator asked for their own call back: no presence check, and a failure is theirs
		// to retry. The request giving up must not leave the call half-moved.
		resumeCtx := context.WithoutCancel(ctx)
		lc.Status = callQueued
		if err := d.dialOperator(resumeCtx, lc, u.Username); err != nil {
			// Back on hold, where the caller still is (the hold music plays on).
			if _, rerr := d.o.Store.SetCallStatusIf(resumeCtx, contactID, callQueued, callOnHold); rerr != nil {
				d.o.Logger.Error("a call whose resume failed is still recorded queued", "contact", contactID, "err", rerr)
			}
			return err
		}
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
