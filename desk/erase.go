package desk

import (
	"context"
	"errors"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
)

// RecordingDeleter is a CallConnector that can also delete recordings at the provider
// (optional add-on).
type RecordingDeleter interface {
	DeleteRecording(ctx context.Context, recordingSid string) error
}

// EraseCitizen erases a citizen's personal data (store.EraseCitizen, within u's scope), deletes
// their calls' recordings at the provider once the erasure committed (a failure is logged: the
// gateway no longer links the recording either way), and tells open inboxes, on every replica,
// that each of their contacts changed, so no page keeps showing an erased text. A
// *store.ScrubError is returned with the counts: the erasure committed.
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
	var recordings []string
	for _, c := range list {
		if c.Channel != channels.Phone {
			continue
		}
		sid, err := d.o.Store.CallRecordingSID(ctx, c.ID)
		if err != nil {
			return store.ErasureCounts{}, err
		}
		if sid != "" {
			recordings = append(recordings, sid)
		}
	}
	counts, err := d.o.Store.EraseCitizen(ctx, citizenID, u.Scope(), u.Username, reason)
	var scrub *store.ScrubError
	if err != nil && !errors.As(err, &scrub) {
		return counts, err
	}
	if rd, ok := d.calls.(RecordingDeleter); ok {
		for _, sid := range recordings {
			if derr := rd.DeleteRecording(context.WithoutCancel(ctx), sid); derr != nil {
				d.o.Logger.Warn("erasure: a call recording could not be deleted at the provider", "recording", sid, "err", derr)
			}
		}
	}
	for _, c := range list {
		d.publish(ctx, events.ContactUpdated, c.ID, c.Comune)
	}
	return counts, err
}
