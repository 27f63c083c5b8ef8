package desk

import (
	"context"
	"time"

	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
)

// maxEscalations bounds one sweep; the next sweep takes the rest.
const maxEscalations = 500

// RunSLA escalates overdue contacts every SLAInterval until ctx ends (a gateway service). Each
// round also returns to the queue the calls whose offer expired (ExpireOffers), hands the
// backlog to any free operator (catching up on what a failed assignment left behind), sets
// offline the users whose sessions all expired, and applies delivery callbacks held for a
// reply whose sender stopped before it took them.
func (d *Desk) RunSLA(ctx context.Context) error {
	t := time.NewTicker(d.o.SLAInterval)
	defer t.Stop()
	rounds := 0
	dueSince := d.now()
	for {
		if _, err := d.Escalate(ctx); err != nil && ctx.Err() == nil {
			d.o.Logger.Error("SLA escalation failed", "err", err)
		}
		now := d.now()
		if _, err := d.AnnounceDeliveriesDue(ctx, dueSince, now); err != nil && ctx.Err() == nil {
			d.o.Logger.Error("announcing replies without a delivery receipt failed", "err", err)
		} else {
			dueSince = now
		}
		if _, err := d.ExpireOffers(ctx); err != nil && ctx.Err() == nil {
			d.o.Logger.Error("expiring stale call offers failed", "err", err)
		}
		if _, err := d.Drain(ctx, ""); err != nil && ctx.Err() == nil {
			d.o.Logger.Error("draining the backlog failed", "err", err)
		}
		if rounds%4 == 0 {
			if err := d.sweepSessions(ctx); err != nil && ctx.Err() == nil {
				d.o.Logger.Error("setting users without sessions offline failed", "err", err)
			}
			if err := d.ApplyHeldDeliveries(ctx); err != nil && ctx.Err() == nil {
				d.o.Logger.Error("applying held delivery callbacks failed", "err", err)
			}
		}
		rounds++
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Escalate flags every open contact waiting past its SLA: escalated, priority raised by the
// router's Escalation rule, a contact.sla event. Each contact is escalated once, even with
// several replicas sweeping. It returns the ids escalated.
func (d *Desk) Escalate(ctx context.Context) ([]string, error) {
	now := d.now()
	overdue, due, err := d.o.Store.Overdue(ctx, now, maxEscalations)
	if err != nil || len(overdue) == 0 {
		return nil, err
	}
	var done []string
	comuni := map[string]*string{}
	err = d.o.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		done = done[:0]
		for i, w := range overdue {
			prio, esc := d.escalation.Apply(now, due[i], w.Priority, false)
			if !esc {
				continue
			}
			ok, err := d.o.Store.EscalateTx(ctx, tx, w.ID, prio)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			id := w.ID
			if err := d.o.Store.AuditTx(ctx, tx, store.AuditEntry{Actor: store.AuditSystem, Action: store.AuditEscalate,
				ContactID: &id, Target: w.Queue, Detail: "SLA due " + due[i].Format(time.RFC3339)}); err != nil {
				return err
			}
			if w.Comune != "" {
				comuni[id] = strp(w.Comune)
			}
			done = append(done, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range done {
		d.publish(ctx, events.ContactSLA, id, comuni[id])
	}
	if len(done) > 0 {
		d.publish(ctx, events.QueueChanged, "", nil)
	}
	return done, nil
}

// AnnounceDeliveriesDue tells the live inbox about every contact whose reply reached its
// delivery deadline (a PEC without its delivery receipt) in (after, until]: the flag itself is
// worked out when a contact is read, so this only keeps open pages current. It returns the
// contacts announced.
func (d *Desk) AnnounceDeliveriesDue(ctx context.Context, after, until time.Time) ([]string, error) {
	due, err := d.o.Store.DeliveriesDue(ctx, after, until)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(due))
	for _, c := range due {
		d.publish(ctx, events.ContactUpdated, c.ContactID, c.Comune)
		ids = append(ids, c.ContactID)
	}
	return ids, nil
}
