package store

import (
	"cmp"
	"context"
	"slices"

	"github.com/sportello/sportello/channels"
)

// On PostgreSQL a batch of the group writer carries many people's writes in one transaction,
// and an ingest locks its citizen's row (touchCitizen) and then its contact's. Batches run
// their writes in the order they came, so two replicas' batches (or a batch and a merge, which
// locks its two citizens in id order) could each hold a citizen the other waited for: a
// deadlock, which PostgreSQL breaks only after deadlock_timeout (a second), and which after a
// few reruns reached a webhook as an error. A write that names the citizen row it locks first
// (withLockOrder) therefore runs in its batch in citizen id order, the order merges, erasures
// and retention lock citizens in: every lock on a citizen's row is then taken in one order, and
// a contact's only under its citizen's.
//
// Ids are UUIDs (NewID): lowercase hex with dashes in fixed places, ordered alike by Go and by
// the database's collation, whose order merges and retention take their rows in.

// lockOrderKey marks a context whose write names what it locks first (see withLockOrder).
type lockOrderKey struct{}

// withLockOrder names what ctx's write locks first: a citizen's id, or a new sender's identity
// (newSenderLockOrder).
func withLockOrder(ctx context.Context, key string) context.Context {
	if key == "" {
		return ctx
	}
	return context.WithValue(ctx, lockOrderKey{}, key)
}

// newSenderLockOrder is the lock order of a message from a sender no citizen has yet: its
// first lock is the identity's key, which it inserts (with a new citizen no one else knows).
// Batches running side by side (replicas, or one replica's writers) that insert the same new
// identities, or the same provider ids from them, in different orders would each wait for a
// key the other inserted: these writes come after every citizen id ("~" sorts after UUIDs'
// hex digits and dashes), ordered by the identity among themselves.
func newSenderLockOrder(id channels.Identity) string {
	return "~" + string(id.Kind) + ":" + id.Value
}

// lockOrder is what r locks first (withLockOrder), or "" for a write that names nothing.
func (r *writeReq) lockOrder() string {
	id, _ := r.ctx.Value(lockOrderKey{}).(string)
	return id
}

// sortByLockOrder puts a batch's writes in citizen id order, then the first messages of new
// senders by identity (newSenderLockOrder), then those that name nothing, each in the order it
// came among its equals. A new sender's citizen, a UUIDv7, comes after every older one's: when
// another batch created that citizen meanwhile, the row it locks is the newest.
func sortByLockOrder(batch []*writeReq) {
	slices.SortStableFunc(batch, func(a, b *writeReq) int {
		x, y := a.lockOrder(), b.lockOrder()
		switch {
		case x == y:
			return 0
		case x == "":
			return 1
		case y == "":
			return -1
		}
		return cmp.Compare(x, y)
	})
}

// joinsInLockOrder reports whether a write arriving while a batch ran may join it after its
// writes in lock order up to last: one that names a citizen before last waits for the next
// batch, where it runs in order.
func joinsInLockOrder(r *writeReq, last string) bool {
	order := r.lockOrder()
	return order == "" || order >= last
}
