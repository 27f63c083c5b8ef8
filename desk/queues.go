package desk

import (
	"context"
	"slices"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/router"
	"github.com/sportello/sportello/store"
)

// QueueStats is one queue as supervisors watch it.
type QueueStats struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	Waiting            int    `json:"waiting"`
	OldestWaitSeconds  int    `json:"oldest_wait_seconds"`
	OperatorsAvailable int    `json:"operators_available"`
}

// Queues lists every configured queue with the contacts waiting in it (open and unassigned,
// within the user's comuni), the oldest wait, and how many available operators could take its
// contacts (skills overlapping the queue's comuni and categories). Contacts stored without a
// queue appear under an extra "unrouted" entry.
func (d *Desk) Queues(ctx context.Context, u store.User) ([]QueueStats, error) {
	loads, err := d.o.Store.QueueLoads(ctx, u.Scope())
	if err != nil {
		return nil, err
	}
	ops, err := d.o.Store.Operators(ctx)
	if err != nil {
		return nil, err
	}
	now := d.now()
	out := []QueueStats{}
	add := func(q config.Queue) {
		// A queue of other comuni only is not the user's to see, not even its name.
		if !overlaps(u.Comuni, q.Comuni) {
			return
		}
		s := QueueStats{ID: q.ID, Name: q.Name}
		if l, ok := loads[q.ID]; ok {
			s.Waiting = l.Waiting
			if w := int(now.Sub(l.Oldest).Seconds()); w > 0 {
				s.OldestWaitSeconds = w
			}
		}
		for _, o := range ops {
			if o.Presence == router.PresenceAvailable && overlaps(o.Comuni, q.Comuni) && overlaps(o.Categories, q.Categories) {
				s.OperatorsAvailable++
			}
		}
		out = append(out, s)
	}
	for _, q := range d.queues.All() {
		add(q)
	}
	if _, ok := loads[""]; ok {
		add(config.Queue{ID: "", Name: "unrouted"})
	}
	return out, nil
}

// overlaps: an empty list means "any".
func overlaps(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
