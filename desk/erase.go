package desk

import (
	"context"
	"errors"
	"fmt"

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
// their calls' recordings at the provider once the erasure committed (the store queued them in
// the erasure's transaction: one that fails now is tried again by PurgeRecordings later), and
// tells open inboxes, on every replica, that each of their contacts changed, so no page keeps
// showing an erased text. A *store.ScrubError is returned with the counts: the erasure
// committed.
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
	// This citizen's recordings, at once (the admin waits for the answer; the queue's others are
	// the periodic pass's), and only those the erasure's transaction queued: a recording is
	// deleted at the provider only once nothing links it any more.
	purgeCtx := context.WithoutCancel(ctx)
	queued, qerr := d.o.Store.QueuedRecordingDeletions(purgeCtx, recordings)
	if qerr == nil {
		_, qerr = d.purge(purgeCtx, queued)
	}
	if qerr != nil {
		d.o.Logger.Warn("erasure: a call recording was not deleted at the provider; tried again later", "err", qerr)
	}
	for _, c := range list {
		d.publish(ctx, events.ContactUpdated, c.ID, c.Comune)
	}
	return counts, err
}

// purgeBatch is how many queued recordings one PurgeRecordings pass takes.
const purgeBatch = 200

// PurgeRecordings deletes at the provider the recordings that erasures and retention unlinked,
// up to purgeBatch of them, and forgets each the provider no longer holds. It returns how many
// were deleted. Without a connector able to delete (no Twilio voice), it does nothing.
func (d *Desk) PurgeRecordings(ctx context.Context) (int, error) {
	if _, ok := d.calls.(RecordingDeleter); !ok {
		return 0, nil
	}
	queued, err := d.o.Store.RecordingDeletions(ctx, purgeBatch)
	if err != nil {
		return 0, err
	}
	sids := make([]string, len(queued))
	for i, q := range queued {
		sids[i] = q.SID
	}
	return d.purge(ctx, sids)
}

// purge deletes recordings at the provider and forgets each it deleted. It stops at the first
// failure, which it keeps with the recording for a later pass (the provider is most likely
// down, and each further request would wait for its timeout too).
func (d *Desk) purge(ctx context.Context, sids []string) (int, error) {
	rd, ok := d.calls.(RecordingDeleter)
	if !ok {
		return 0, nil
	}
	deleted := 0
	for _, sid := range sids {
		if derr := rd.DeleteRecording(ctx, sid); derr != nil {
			if err := d.o.Store.RecordingDeletionFailed(ctx, sid, derr.Error()); err != nil {
				return deleted, err
			}
			return deleted, fmt.Errorf("desk: recording %s not deleted at the provider (%d left for later): %w", sid, len(sids)-deleted, derr)
		}
		if err := d.o.Store.RecordingDeleted(ctx, sid); err != nil {
			return deleted, err
		}
		deleted++
	}
	return deleted, nil
}
