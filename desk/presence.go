package desk

import (
	"context"

	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/router"
	"github.com/sportello/sportello/store"
)

// ValidPresence reports whether s is available, away or offline.
func ValidPresence(s string) bool {
	return s == router.PresenceAvailable || s == router.PresenceAway || s == router.PresenceOffline
}

// SetPresence changes the acting user's presence, as they chose it: it is remembered, and their
// next login restores it. Becoming available drains the backlog to them; going offline returns
// the contacts they held to their queues (for the others to take). Away keeps what they hold and
// gets nothing new.
func (d *Desk) SetPresence(ctx context.Context, u store.User, status string) error {
	return d.setPresence(ctx, u, status, true)
}

// setPresence changes a presence; chosen is false when the gateway changes it (logout, expiry,
// login), which leaves the user's own choice as it was.
func (d *Desk) setPresence(ctx context.Context, u store.User, status string, chosen bool) error {
	if !ValidPresence(status) {
		return badRequest("invalid_status", "status must be available, away or offline")
	}
	var requeued []store.WaitingContact
	prev := ""
	err := d.o.Store.WriteAlone(ctx, func(ctx context.Context, tx *store.Tx) error {
		requeued = nil
		if err := d.o.Store.LockAssignments(ctx, tx); err != nil {
			return err
		}
		var err error
		if prev, err = d.o.Store.SetPresenceTx(ctx, tx, u.ID, status); err != nil {
			return notFoundAs(err, "user")
		}
		if chosen {
			if err := d.o.Store.ChoosePresenceTx(ctx, tx, u.ID, status); err != nil {
				return err
			}
		}
		if prev == status {
			return nil
		}
		if status == router.PresenceOffline {
			if requeued, err = d.o.Store.RequeueTx(ctx, tx, u.Username); err != nil {
				return err
			}
		}
		return d.o.Store.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: store.AuditPresence, Target: status,
			Detail: "from " + prev})
	})
	if err == nil && status == router.PresenceAvailable {
		d.available.becameAvailable()
	}
	if err != nil || prev == status {
		return err
	}
	for _, w := range requeued {
		var c *string
		if w.Comune != "" {
			c = strp(w.Comune)
		}
		d.publish(ctx, events.ContactUpdated, w.ID, c)
	}
	d.publish(ctx, events.QueueChanged, "", nil)
	switch {
	case status == router.PresenceAvailable:
		d.drainQuietly(ctx, u.Username)
	case len(requeued) > 0:
		d.drainQuietly(ctx, "")
	}
	return nil
}

// SessionEnded sets a user offline once their last inbox session is gone (logout, or expiry
// found by the periodic sweep). The inbox calls it after revoking a session.
func (d *Desk) SessionEnded(ctx context.Context, u store.User) error {
	n, err := d.o.Store.CountLiveSessions(ctx, u.ID)
	if err != nil || n > 0 {
		return err
	}
	return d.setPresence(ctx, u, router.PresenceOffline, false)
}

// SessionStarted gives a user who logs in while offline the presence they last chose (an
// operator who left available comes back available); one who chose offline stays offline.
func (d *Desk) SessionStarted(ctx context.Context, u store.User) error {
	if u.Presence != router.PresenceOffline {
		return nil
	}
	chosen, err := d.o.Store.ChosenPresence(ctx, u.ID)
	if err != nil || chosen == "" || chosen == router.PresenceOffline || !ValidPresence(chosen) {
		return err
	}
	return d.setPresence(ctx, u, chosen, false)
}

// sweepSessions sets offline the users whose every session expired without a logout.
func (d *Desk) sweepSessions(ctx context.Context) error {
	users, err := d.o.Store.SessionlessPresent(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := d.setPresence(ctx, u, router.PresenceOffline, false); err != nil {
			return err
		}
	}
	return nil
}
