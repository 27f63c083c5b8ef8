package desk

import (
	"context"
	"errors"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
)

// EraseCitizen erases a citizen's personal data (store.EraseCitizen, within u's scope) and
// tells open inboxes, on every replica, that each of their contacts changed, so no page keeps
// showing an erased text. A *store.ScrubError is returned with the counts: the erasure committed.
func (d *Desk) EraseCitizen(ctx context.Context, u store.User, citizenID, reason string) (store.ErasureCounts, error) {
	var list []channels.Contact
	cursor := ""
	for {
		page, next, err := d.o.Store.ListContacts(ctx, store.ContactFilter{Citizen: citizenID, Limit: 200, Cursor: cursor})
		if err != nil {
			return store.ErasureCounts{}, err
		}
		list = append(list, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	counts, err := d.o.Store.EraseCitizen(ctx, citizenID, u.Scope(), u.Username, reason)
	var scrub *store.ScrubError
	if err != nil && !errors.As(err, &scrub) {
		return counts, err
	}
	for _, c := range list {
		d.publish(ctx, events.ContactUpdated, c.ID, c.Comune)
	}
	return counts, err
}
