package gateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/sportello/sportello/adapters/cti"
	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
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

// operatorDirectory tells the CTI webhook whether the user a PBX names is an enabled user.
type operatorDirectory struct{ s *store.Store }

func (d *operatorDirectory) OperatorStatus(ctx context.Context, username string) (cti.OperatorStatus, error) {
	enabled, err := d.s.UserEnabled(ctx, username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return cti.OperatorUnknown, nil
	case err != nil:
		return cti.OperatorUnknown, err
	case !enabled:
		return cti.OperatorDisabled, nil
	}
	return cti.OperatorEnabled, nil
}

// ctiSources are the configured PBXs as the CTI webhook knows them. Networks are parsed by
// config validation; a config that skipped it must not open a source to every address. A
// token that is still `config print`'s mask opens nothing: whoever read the printout knows it
// (config.Warnings says so at start-up).
func ctiSources(c config.CTI) ([]cti.Source, error) {
	var out []cti.Source
	for _, s := range c.AllSources() {
		if len(s.Prefixes) != len(s.Networks) {
			return nil, fmt.Errorf("cti source %q: networks not validated", s.Name)
		}
		if s.Token == config.Masked {
			continue
		}
		out = append(out, cti.Source{Name: s.Name, Token: s.Token, Networks: s.Prefixes})
	}
	return out, nil
}
