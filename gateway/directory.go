package gateway

import (
	"context"
	"errors"

	"github.com/sportello/sportello/adapters/cti"
	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
)

// citizenDirectory gives the CTI screen pop the caller's record.
type citizenDirectory struct{ s *store.Store }

func (d *citizenDirectory) CitizenCard(ctx context.Context, phone string) (*cti.CitizenCard, error) {
	id, err := d.s.CitizenByIdentity(ctx, channels.Identity{Kind: channels.IdentityPhone, Value: phone})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := d.s.GetCitizen(ctx, id, store.Scope{})
	if err != nil {
		return nil, err
	}
	open, err := d.s.OpenContactsOf(ctx, id, 20)
	if err != nil {
		return nil, err
	}
	if open == nil {
		open = []channels.Contact{}
	}
	return &cti.CitizenCard{ID: c.ID, Name: c.Name, Comune: c.Comune, Phone: c.Phone, Email: c.Email, OpenContacts: open}, nil
}
