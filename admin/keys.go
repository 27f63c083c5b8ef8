package admin

import (
	"context"
	"errors"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// Keys lists the comuni's API keys actor may manage, newest first, revoked ones included.
func (s *Service) Keys(ctx context.Context, actor store.User) ([]alertstore.APIKey, error) {
	if !actor.AtLeast(store.RoleSupervisor) {
		return nil, forbidden("managing API keys needs the supervisor role")
	}
	all, err := alertstore.New(s.o.Store).APIKeys(ctx, "")
	if err != nil {
		return nil, err
	}
	out := []alertstore.APIKey{}
	for _, k := range all {
		if inComuni(actor.Comuni, []string{k.Comune}) {
			out = append(out, k)
		}
	}
	return out, nil
}

// CreateKey issues an API key for a comune of actor's; the key is returned once.
func (s *Service) CreateKey(ctx context.Context, actor store.User, comune, name string) (alertstore.APIKey, string, error) {
	if !actor.AtLeast(store.RoleSupervisor) {
		return alertstore.APIKey{}, "", forbidden("managing API keys needs the supervisor role")
	}
	if _, ok := s.o.Config.ComuneByID(comune); !ok {
		return alertstore.APIKey{}, "", invalid("unknown_comune", "unknown comune %q", comune)
	}
	if !inComuni(actor.Comuni, []string{comune}) {
		return alertstore.APIKey{}, "", forbidden("you manage only the keys of %v", actor.Comuni)
	}
	name, err := cleanName(name)
	if err != nil {
		return alertstore.APIKey{}, "", err
	}
	return alertstore.New(s.o.Store).CreateAPIKey(ctx, comune, name,
		s.comuneEntry(actor, store.AuditAPIKeyCreate, "", comune, describe(map[string]string{"comune": comune, "name": name})))
}

// RevokeKey revokes a key of a comune of actor's (any other is NotFound).
func (s *Service) RevokeKey(ctx context.Context, actor store.User, id string) (alertstore.APIKey, error) {
	if !actor.AtLeast(store.RoleSupervisor) {
		return alertstore.APIKey{}, forbidden("managing API keys needs the supervisor role")
	}
	ks := alertstore.New(s.o.Store)
	k, err := ks.APIKeyByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && !inComuni(actor.Comuni, []string{k.Comune}) {
		return alertstore.APIKey{}, notFound("API key")
	}
	if err != nil {
		return k, err
	}
	if err := ks.RevokeAPIKey(ctx, k.ID, s.comuneEntry(actor, store.AuditAPIKeyRevoke, k.ID, k.Comune,
		describe(map[string]string{"comune": k.Comune, "name": k.Name}))); err != nil {
		return k, err
	}
	return ks.APIKeyByID(ctx, id)
}
