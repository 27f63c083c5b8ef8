package desk

import (
	"context"
	"errors"
	"net/http"

	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
)

// Merge folds citizen fromID into intoID (identities and contacts). Both must be visible to the
// acting user; merging a citizen into itself is refused, and so is a merge with an erased
// citizen or one merged into another already (409 citizen_erased, citizen_merged: an erasure or
// another merge that came first; see store.MergeCitizens).
func (d *Desk) Merge(ctx context.Context, u store.User, intoID, fromID string) error {
	if fromID == "" {
		return badRequest("invalid_citizen", "citizen_id is required")
	}
	if intoID == fromID {
		return badRequest("self_merge", "a citizen cannot be merged into itself")
	}
	for _, id := range []string{intoID, fromID} {
		if _, err := d.o.Store.GetCitizen(ctx, id, u.Scope()); err != nil {
			return notFoundAs(err, "citizen")
		}
	}
	moved, _, err := d.o.Store.ListContacts(ctx, store.ContactFilter{Citizen: fromID, Limit: 200})
	if err != nil {
		return err
	}
	if err := d.o.Store.MergeCitizens(ctx, intoID, fromID, u.Scope()); err != nil {
		return mergeRefusal(err)
	}
	if err := d.o.Store.Audit(ctx, store.AuditEntry{Actor: u.Username, Action: store.AuditMerge, CitizenID: &intoID,
		Target: fromID, Detail: "merged into " + intoID}); err != nil {
		d.o.Logger.Error("auditing a merge failed", "into", intoID, "from", fromID, "err", err)
	}
	for _, c := range moved {
		d.publish(ctx, events.ContactUpdated, c.ID, c.Comune)
	}
	return nil
}

// mergeRefusal is the operator's answer to a merge the store refused.
func mergeRefusal(err error) error {
	switch {
	case errors.Is(err, store.ErrSelfMerge):
		return badRequest("self_merge", "a citizen cannot be merged into itself")
	case errors.Is(err, store.ErrNotFound):
		return notFound("citizen")
	case errors.Is(err, store.ErrCitizenErased):
		return fail(http.StatusConflict, "citizen_erased", "one of the two citizens was erased: nothing was merged")
	case errors.Is(err, store.ErrMergeOutOfScope):
		return fail(http.StatusForbidden, "out_of_scope", "one of the two citizens has contacts outside your comuni: an operator of every comune they concern must merge them")
	case errors.Is(err, store.ErrCitizenMerged):
		return fail(http.StatusConflict, "citizen_merged", "one of the two citizens was merged into another meanwhile: nothing was merged")
	}
	return err
}
