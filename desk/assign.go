package desk

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/ingest"
	"github.com/sportello/sportello/router"
	"github.com/sportello/sportello/store"
	"golang.org/x/sync/errgroup"
)

// maxBacklog bounds how many waiting contacts one drain considers: a drain hands out at most
// the operators' free places, which are far fewer.
const maxBacklog = 5000

// Received assigns a newly stored contact (ingest.Follower, after the commit): to the available
// operator with the right skills who has waited longest. A contact nobody can take now waits
// for the next operator who becomes available or frees a place.
func (d *Desk) Received(ctx context.Context, in channels.InboundMessage, r channels.Receipt, _ ingest.Decision) {
	if in.Direction == channels.Outbound {
		return
	}
	// The webhook's answer must not cancel the assignment of what it already stored.
	ctx = context.WithoutCancel(ctx)
	// With nobody available (nights, a burst) a read spares the writer a locking transaction
	// per contact; whoever becomes available later drains the backlog.
	if any, err := d.available.anyAvailable(ctx, d.o.Store); err == nil && !any {
		return
	}
	if _, err := d.AssignWaiting(ctx, r.ContactID); err != nil {
		d.o.Logger.Error("automatic assignment failed", "contact", r.ContactID, "err", err)
	}
}

func toRouter(list []store.OperatorState) []router.Operator {
	ops := make([]router.Operator, len(list))
	for i, o := range list {
		ops[i] = router.Operator{ID: o.ID, Username: o.Username, Presence: o.Presence, Capacity: o.Capacity, Open: o.Open,
			Comuni: o.Comuni, Categories: o.Categories, LastAssignedAt: o.LastAssignedAt, OnCall: o.OnCall, TakesUndecided: o.TakesUndecided}
	}
	return ops
}

func toWaiting(w store.WaitingContact) router.Waiting {
	return router.Waiting{ContactID: w.ID, Comune: w.Comune, Category: w.Category, Queue: w.Queue, Priority: w.Priority, ReceivedAt: w.ReceivedAt,
		Voice: w.Channel == channels.Phone}
}

// stamp is the time recorded as an operator's last assignment: now, or just after the one
// stored, so the round-robin order holds even when the clock repeats a microsecond.
func stamp(now, last time.Time) time.Time {
	if !now.After(last) {
		return last.Add(time.Microsecond)
	}
	return now
}

// AssignWaiting gives one waiting contact to the operator router.Pick chooses, in one
// transaction that holds the assignment lock and re-reads every open count, so replicas never
// over-fill an operator. It returns the username, or "" when the contact is not waiting or
// nobody can take it now.
func (d *Desk) AssignWaiting(ctx context.Context, contactID string) (string, error) {
	return d.assignWaiting(ctx, contactID, maxOfferAttempts)
}

// assignWaiting is AssignWaiting for a call that may go to at most offerAttempts operators in
// a row (see maxOfferAttempts).
func (d *Desk) assignWaiting(ctx context.Context, contactID string, offerAttempts int) (string, error) {
	var who string
	var comune *string
	err := d.o.Store.WriteAlone(ctx, func(ctx context.Context, tx *store.Tx) error {
		who = ""
		if err := d.o.Store.LockAssignments(ctx, tx); err != nil {
			return err
		}
		h, err := d.o.Store.ContactHeadTx(ctx, tx, contactID, store.Scope{})
		if err != nil {
			return err
		}
		if h.Status != channels.StatusOpen || h.Assignee != nil || h.Direction == channels.Outbound {
			return nil
		}
		comune = h.Comune
		w := router.Waiting{ContactID: h.ID, Priority: h.Priority, ReceivedAt: h.Received,
			Comune: deref(h.Comune), Category: deref(h.Category), Queue: deref(h.Queue), Voice: h.Channel == channels.Phone}
		// Only operators whose skills cover the contact are read; Pick still checks everything.
		cands, err := d.o.Store.CandidatesTx(ctx, tx, w.Comune, w.Category)
		if err != nil {
			return err
		}
		op, ok := router.Pick(toRouter(cands), w)
		if !ok {
			return nil
		}
		changed, err := d.o.Store.AssignTx(ctx, tx, h.ID, op.Username, true, stamp(d.now(), op.LastAssignedAt))
		if err != nil || !changed {
			return err
		}
		who = op.Username
		return d.o.Store.AuditTx(ctx, tx, store.AuditEntry{Actor: store.AuditSystem, Action: store.AuditAssign,
			ContactID: &h.ID, Target: op.Username, Detail: "automatic"})
	})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", nil
		}
		return "", err
	}
	if who != "" {
		d.publish(ctx, events.ContactUpdated, contactID, comune)
		d.publish(ctx, events.QueueChanged, "", comune)
		d.offerCall(ctx, contactID, who, offerAttempts)
	}
	return who, nil
}

// Drain hands the backlog to available operators as their capacity allows (router.DrainAt):
// the highest priority first, then the longest waiting. With only set, only that operator gets
// contacts (they just became available or freed a place). It returns the assignments made.
func (d *Desk) Drain(ctx context.Context, only string) ([]router.Assignment, error) {
	var made []router.Assignment
	var comuni map[string]*string
	err := d.o.Store.WriteAlone(ctx, func(ctx context.Context, tx *store.Tx) error {
		made, comuni = nil, map[string]*string{}
		if err := d.o.Store.LockAssignments(ctx, tx); err != nil {
			return err
		}
		var avail []store.OperatorState
		if only != "" {
			op, err := d.o.Store.OperatorTx(ctx, tx, only)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			avail = []store.OperatorState{op}
		} else {
			var err error
			if avail, err = d.o.Store.AvailableOperatorsTx(ctx, tx); err != nil {
				return err
			}
		}
		ops := toRouter(avail)
		free := 0
		for _, o := range ops {
			if o.Presence == router.PresenceAvailable && o.Open < o.Capacity {
				free += o.Capacity - o.Open
			}
		}
		if free == 0 {
			return nil
		}
		var backlog []store.WaitingContact
		var err error
		if only != "" {
			// One operator takes, in DrainAt's order, the first contacts their skills cover:
			// the database finds exactly those, however long the backlog.
			backlog, err = d.o.Store.WaitingForTx(ctx, tx, ops[0].Comuni, ops[0].Categories, free)
		} else {
			backlog, err = d.o.Store.WaitingTx(ctx, tx, maxBacklog)
		}
		if err != nil {
			return err
		}
		waiting := make([]router.Waiting, len(backlog))
		for i, w := range backlog {
			waiting[i] = toWaiting(w)
			if w.Comune != "" {
				comuni[w.ID] = strp(w.Comune)
			}
		}
		byID := map[string]*router.Operator{}
		for i := range ops {
			byID[ops[i].ID] = &ops[i]
		}
		for _, a := range router.DrainAt(ops, waiting, d.now()) {
			changed, err := d.o.Store.AssignTx(ctx, tx, a.ContactID, a.Username, true, byID[a.OperatorID].LastAssignedAt)
			if err != nil {
				return err
			}
			if !changed {
				continue
			}
			id := a.ContactID
			if err := d.o.Store.AuditTx(ctx, tx, store.AuditEntry{Actor: store.AuditSystem, Action: store.AuditAssign,
				ContactID: &id, Target: a.Username, Detail: "backlog"}); err != nil {
				return err
			}
			made = append(made, a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, a := range made {
		d.publish(ctx, events.ContactUpdated, a.ContactID, comuni[a.ContactID])
	}
	d.offerAll(ctx, made)
	if len(made) > 0 {
		d.publish(ctx, events.QueueChanged, "", nil)
	}
	return made, nil
}

// maxConcurrentOffers bounds the calls one drain dials at once. A drain hands the backlog to
// every free operator, and each call's offer is a REST request of up to offerRequestTimeout:
// dialled one after the other, a hanging Twilio would hold the SLA round (or the request of an
// operator coming back available) for that timeout once per call.
const maxConcurrentOffers = 8

// offerAll dials the operators of the calls among made (offerCall leaves anything else alone),
// several at once: each is its own call and operator, and each offer's outcome is settled
// under the assignment lock (offerCall, offerToNext).
func (d *Desk) offerAll(ctx context.Context, made []router.Assignment) {
	if len(made) == 1 {
		d.offerCall(ctx, made[0].ContactID, made[0].Username, maxOfferAttempts)
		return
	}
	var g errgroup.Group
	g.SetLimit(maxConcurrentOffers)
	for _, a := range made {
		g.Go(func() error {
			d.offerCall(ctx, a.ContactID, a.Username, maxOfferAttempts)
			return nil
		})
	}
	_ = g.Wait() // offerCall logs its own failures and returns nothing
}

// Assign gives a contact to a user. Supervisors and admins assign to anyone who may see the
// contact's comune, taking it from whoever had it; an operator may only assign to themselves,
// which is Claim.
func (d *Desk) Assign(ctx context.Context, u store.User, contactID, username string) error {
	username = strings.TrimSpace(username)
	if username == "" {
		return badRequest("invalid_username", "username is required")
	}
	if !u.AtLeast(store.RoleSupervisor) {
		if username != u.Username {
			return forbidden("operators may only assign contacts to themselves")
		}
		return d.Claim(ctx, u, contactID)
	}
	if _, err := d.o.Store.ContactHead(ctx, contactID, u.Scope()); err != nil {
		return notFoundAs(err, "contact")
	}
	target, err := d.o.Store.UserByUsername(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return badRequest("unknown_user", "there is no user %q", username)
	}
	if err != nil {
		return err
	}
	// A disabled user can neither sign in nor see the contact: it would wait unseen.
	if disabled, err := d.o.Store.UserDisabled(ctx, target.ID); err != nil {
		return err
	} else if disabled {
		return badRequest("user_disabled", "%s is disabled", username)
	}
	return d.assign(ctx, u, contactID, target, false)
}

// Claim takes a contact for the acting user: an open one, or one already theirs. A contact
// someone else holds is a conflict (a supervisor reassigns it with Assign).
func (d *Desk) Claim(ctx context.Context, u store.User, contactID string) error {
	return d.assign(ctx, u, contactID, u, true)
}

func (d *Desk) assign(ctx context.Context, u store.User, contactID string, target store.User, claim bool) error {
	dialled, err := d.assignmentDials(ctx, contactID)
	if err != nil {
		return err
	}
	var comune *string
	var prev *string
	changed := false
	err = d.o.Store.WriteAlone(ctx, func(ctx context.Context, tx *store.Tx) error {
		changed = false
		if err := d.o.Store.LockAssignments(ctx, tx); err != nil {
			return err
		}
		h, err := d.o.Store.ContactHeadTx(ctx, tx, contactID, u.Scope())
		if err != nil {
			return notFoundAs(err, "contact")
		}
		comune, prev = h.Comune, h.Assignee
		if !target.Scope().Allows(h.Comune) {
			return badRequest("out_of_scope", "%s may not see this contact's comune", target.Username)
		}
		if h.Status == channels.StatusResolved {
			return conflict("the contact is resolved")
		}
		if h.Assignee != nil && *h.Assignee == target.Username {
			return nil
		}
		if claim && h.Assignee != nil {
			return conflict("the contact is assigned to %s", *h.Assignee)
		}
		op, err := d.o.Store.OperatorTx(ctx, tx, target.Username)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// A queued call is dialled to its new holder at once: only to someone who can answer.
		if why := whyNotFreeForCall(target.Username, op, err); dialled && why != "" {
			return conflict("%s: a queued call goes only to an available operator on no other call", why)
		}
		if changed, err = d.o.Store.AssignTx(ctx, tx, contactID, target.Username, false, stamp(d.now(), op.LastAssignedAt)); err != nil {
			return err
		}
		action, detail := store.AuditAssign, ""
		if claim {
			action = store.AuditClaim
		}
		if h.Assignee != nil {
			detail = "from " + *h.Assignee
		}
		return d.o.Store.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: action, ContactID: &contactID,
			Target: target.Username, Detail: detail})
	})
	if err != nil || !changed {
		return err
	}
	d.publish(ctx, events.ContactUpdated, contactID, comune)
	d.publish(ctx, events.QueueChanged, "", comune)
	d.offerCall(ctx, contactID, target.Username, maxOfferAttempts)
	if prev != nil {
		// The previous holder has a free place now.
		d.drainQuietly(ctx, *prev)
	}
	return nil
}

// assignmentDials reports whether assigning the contact dials its new holder: a Twilio call
// waiting in the queue. It is read before the assignment's transaction (which may read only
// through its own); offerCall checks the operator again before it dials.
func (d *Desk) assignmentDials(ctx context.Context, contactID string) (bool, error) {
	lc, err := d.o.Store.LiveCallOf(ctx, contactID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && dialledOnAssign(lc), err
}

// CallEnded hands the call's operator what waits for them now that they are off the phone
// (ingest.CallFollower): a second call waited while they talked.
func (d *Desk) CallEnded(ctx context.Context, contactID string) {
	h, err := d.o.Store.ContactHead(ctx, contactID, store.Scope{})
	if err != nil {
		d.o.Logger.Error("reading an ended call failed", "contact", contactID, "err", err)
		return
	}
	if h.Assignee != nil {
		d.drainQuietly(ctx, *h.Assignee)
	}
}

func (d *Desk) drainQuietly(ctx context.Context, username string) {
	if _, err := d.Drain(context.WithoutCancel(ctx), username); err != nil {
		d.o.Logger.Error("draining the backlog failed", "operator", username, "err", err)
	}
}
