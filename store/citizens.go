package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sportello/sportello/channels"
)

// GetCitizen reads a citizen with identities and every contact of theirs (newest first) that the
// scope allows.
func (s *Store) GetCitizen(ctx context.Context, id string, sc Scope) (channels.Citizen, error) {
	var c channels.Citizen
	var comune sql.NullString
	var erased sql.NullInt64
	err := s.queryRow(ctx, "SELECT id, name, comune, erased_at FROM citizens WHERE id = ? AND merged_into IS NULL", id).Scan(&c.ID, &c.Name, &comune, &erased)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, err
	}
	c.Comune, c.ErasedAt = nullString(comune), nullMicros(erased)
	idents, err := s.identitiesOf(ctx, []any{id})
	if err != nil {
		return c, err
	}
	c.Identities = idents[id]
	if c.Identities == nil {
		c.Identities = []channels.Identity{}
	}
	c.Phone, c.Email, c.Fax = firstIdentities(c.Identities)
	for _, idn := range c.Identities {
		if idn.Kind == channels.IdentityFiscalCode && c.FiscalCode == nil {
			v := idn.Value
			c.FiscalCode = &v
		}
	}
	contacts, _, err := s.ListContacts(ctx, ContactFilter{Citizen: id, Limit: 200, Scope: sc})
	if err != nil {
		return c, err
	}
	c.Contacts = contacts
	if sc.Comuni != nil && len(contacts) == 0 && !sc.Allows(c.Comune) {
		return channels.Citizen{}, ErrNotFound
	}
	return c, nil
}

// CitizenByIdentity finds the citizen an address belongs to.
func (s *Store) CitizenByIdentity(ctx context.Context, id channels.Identity) (string, error) {
	var cid string
	err := s.queryRow(ctx, "SELECT citizen_id FROM identities WHERE kind = ? AND value = ?", string(id.Kind), id.Value).Scan(&cid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return cid, err
}

// OpenContactsOf lists a citizen's contacts not yet resolved, newest first.
func (s *Store) OpenContactsOf(ctx context.Context, citizenID string, limit int) ([]channels.Contact, error) {
	var out []channels.Contact
	for _, st := range []channels.Status{channels.StatusOpen, channels.StatusAssigned} {
		list, _, err := s.ListContacts(ctx, ContactFilter{Citizen: citizenID, Status: string(st), Limit: limit})
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	return out, nil
}

// ErrSelfMerge is returned when a citizen would be merged into itself.
var ErrSelfMerge = errors.New("a citizen cannot be merged into itself")

// ErrCitizenErased and ErrCitizenMerged refuse a merge one of whose citizens was erased (at a
// request, or by retention) or merged into another citizen already: nothing moves. They come
// wrapped with the citizen's id.
var (
	ErrCitizenErased = errors.New("the citizen was erased")
	ErrCitizenMerged = errors.New("the citizen was merged into another")
)

// ErrMergeOutOfScope refuses a scoped user's merge of a citizen with contacts outside their
// comuni: the merge would move another comune's contacts, and show that comune's operators
// the addresses of this one's citizen.
var ErrMergeOutOfScope = errors.New("one of the citizens has contacts outside your comuni")

// MergeCitizens folds citizen `from` into `into`: identities and contacts move, `from` is marked
// merged. Both must exist and differ (ErrNotFound, ErrSelfMerge), and neither may be erased
// (ErrCitizenErased) or merged already (ErrCitizenMerged).
//
// It locks both citizens' rows as an erasure does (lockCitizenTx), in id order as retention
// does, and reads them once locked; on PostgreSQL in a transaction of its own (WriteAlone). So
// a merge and an erasure or retention of either citizen take turns: a merge that comes first
// moves everything into `into`, which an erasure of `into` then erases whole (an erasure of
// `from` then finds it merged: ErrNotFound); an erasure that comes first leaves the merge
// refused, so nothing live joins an erased citizen and nothing of an erased one joins a live
// one.
//
// A user limited to some comuni (sc) may merge only citizens whose every contact is in them
// (ErrMergeOutOfScope), checked under the lock; Scope{} is everyone's.
func (s *Store) MergeCitizens(ctx context.Context, into, from string, sc Scope) error {
	if into == from {
		return ErrSelfMerge
	}
	return s.WriteAlone(ctx, func(ctx context.Context, tx *Tx) error {
		// In retention's order: the database's (its collation may not be Go's).
		ids, err := strings1(tx.Query(ctx, "SELECT id FROM citizens WHERE id IN (?, ?) ORDER BY id", into, from))
		if err != nil {
			return err
		}
		if len(ids) < 2 {
			return ErrNotFound
		}
		for _, id := range ids {
			if err := s.lockMergeableTx(ctx, tx, id); err != nil {
				return err
			}
		}
		if err := checkMergeScopeTx(ctx, tx, sc, into, from); err != nil {
			return err
		}
		now := Micros(s.now())
		if _, err := tx.Exec(ctx, "UPDATE identities SET citizen_id = ? WHERE citizen_id = ?", into, from); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE contacts SET citizen_id = ?, updated_at = ? WHERE citizen_id = ?", into, now, from); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE citizens SET name = CASE WHEN name = '' THEN (SELECT name FROM citizens WHERE id = ?) ELSE name END,
			comune = COALESCE(comune, (SELECT comune FROM citizens WHERE id = ?)), updated_at = ? WHERE id = ?`, from, from, now, into); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE citizens SET merged_into = ?, updated_at = ? WHERE id = ?", into, now, from)
		return err
	})
}

// checkMergeScopeTx refuses a scoped merge when either citizen has a contact outside sc.
func checkMergeScopeTx(ctx context.Context, tx *Tx, sc Scope, into, from string) error {
	if sc.Comuni == nil {
		return nil
	}
	rows, err := tx.Query(ctx, "SELECT DISTINCT comune FROM contacts WHERE citizen_id IN (?, ?)", into, from)
	comuni, err := Collect(rows, err, func(r interface{ Scan(...any) error }) (sql.NullString, error) {
		var c sql.NullString
		err := r.Scan(&c)
		return c, err
	})
	if err != nil {
		return err
	}
	for _, c := range comuni {
		if !sc.Allows(nullString(c)) {
			return ErrMergeOutOfScope
		}
	}
	return nil
}

// lockMergeableTx locks a citizen a merge joins (lockCitizenTx) and then reads it: on
// PostgreSQL an erasure or a merge that held the row meanwhile has committed, and this read
// sees what it did.
func (s *Store) lockMergeableTx(ctx context.Context, tx *Tx, id string) error {
	_, lockErr := s.lockCitizenTx(ctx, tx, id)
	if lockErr != nil && !errors.Is(lockErr, ErrNotFound) {
		return lockErr
	}
	// lockCitizenTx's ErrNotFound is also a merged citizen: say which.
	var merged sql.NullString
	var erased sql.NullInt64
	err := tx.QueryRow(ctx, "SELECT merged_into, erased_at FROM citizens WHERE id = ?", id).Scan(&merged, &erased)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case err != nil:
		return err
	case merged.Valid:
		return fmt.Errorf("store: citizen %s: %w", id, ErrCitizenMerged)
	case erased.Valid:
		return fmt.Errorf("store: citizen %s: %w", id, ErrCitizenErased)
	}
	return lockErr
}
