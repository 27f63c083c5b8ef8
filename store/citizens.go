package store

import (
	"context"
	"database/sql"
	"errors"

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

// MergeCitizens folds citizen `from` into `into`: identities and contacts move, `from` is marked
// merged. Both must exist and differ.
func (s *Store) MergeCitizens(ctx context.Context, into, from string) error {
	if into == from {
		return ErrSelfMerge
	}
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		for _, id := range []string{into, from} {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM citizens WHERE id = ? AND merged_into IS NULL", id).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return ErrNotFound
			}
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
		_, err := tx.Exec(ctx, "UPDATE citizens SET merged_into = ?, updated_at = ? WHERE id = ?", into, now, from)
		return err
	})
}
