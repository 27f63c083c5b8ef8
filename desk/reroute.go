package desk

import (
	"context"
	"slices"
	"strings"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/router"
	"github.com/sportello/sportello/store"
)

// Route is an operator's correction of where a contact belongs: a comune (deciding one that was
// "to be decided") and/or a category. An empty field keeps the contact's.
type Route struct {
	Comune   string
	Category string
}

// Reroute sets a contact's comune and/or category; its queue, priority and SLA follow (the SLA
// counted from when the contact arrived), the comune becomes the citizen's last known one, and a
// waiting contact is offered to the operators again. The new comune must be one the acting user
// may see, or, for a contact still undecided, one the shared numbers serve.
func (d *Desk) Reroute(ctx context.Context, u store.User, contactID string, r Route) error {
	r.Comune, r.Category = strings.TrimSpace(r.Comune), strings.TrimSpace(r.Category)
	if r.Comune == "" && r.Category == "" {
		return badRequest("empty_route", "give a comune, a category or both")
	}
	if r.Comune != "" {
		if _, ok := d.o.Config.ComuneByID(r.Comune); !ok {
			return badRequest("unknown_comune", "unknown comune %q", r.Comune)
		}
	}
	if r.Category != "" && !slices.ContainsFunc(d.o.Config.Categories, func(c config.Category) bool { return c.ID == r.Category }) {
		return badRequest("invalid_category", "unknown category %q", r.Category)
	}
	var waiting bool
	var comune *string
	err := d.o.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		h, err := d.o.Store.ContactHeadTx(ctx, tx, contactID, u.Scope())
		if err != nil {
			return notFoundAs(err, "contact")
		}
		// Deciding an undecided contact may hand it to any comune the shared numbers serve:
		// that is the point of the undecided queue. Moving a decided one stays within scope.
		deciding := h.Comune == nil && u.SeesUndecided && slices.Contains(d.o.Config.UndecidedComuni(), r.Comune)
		if r.Comune != "" && !u.Scope().Allows(&r.Comune) && !deciding {
			return forbidden("you may not move contacts to comune %q", r.Comune)
		}
		cm, cat := r.Comune, r.Category
		if cm == "" {
			cm = deref(h.Comune)
		}
		if cat == "" {
			cat = deref(h.Category)
		}
		q := d.queues.Match(cm, cat, h.Channel)
		comune = &cm
		waiting = h.Status == channels.StatusOpen && h.Assignee == nil
		if err := d.o.Store.RerouteTx(ctx, tx, contactID, store.Routing{Comune: r.Comune, Category: r.Category, Queue: q.ID,
			Priority: q.Priority, SLADue: router.SLADue(q, h.Received)}); err != nil {
			return err
		}
		return d.o.Store.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: store.AuditReroute, ContactID: &contactID,
			Target: strings.Trim(r.Comune+" "+r.Category, " "), Detail: "queue " + q.ID})
	})
	if err != nil {
		return err
	}
	d.publish(ctx, events.ContactUpdated, contactID, comune)
	d.publish(ctx, events.QueueChanged, "", comune)
	if waiting {
		if _, err := d.AssignWaiting(context.WithoutCancel(ctx), contactID); err != nil {
			d.o.Logger.Error("assigning a rerouted contact failed", "contact", contactID, "err", err)
		}
	}
	return nil
}
