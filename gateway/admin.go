package gateway

import (
	"context"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// EnsureAdmin creates the first user, "admin", when there is no user at all, and returns its
// password (shown once) or "" if users already exist.
func (g *Gateway) EnsureAdmin(ctx context.Context) (string, error) {
	n, err := g.Store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	pw := store.RandomToken("")[:20]
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return "", err
	}
	if _, err := g.Store.CreateUser(ctx, store.User{Username: "admin", Name: "Amministratore", Role: store.RoleAdmin, PasswordHash: hash}); err != nil {
		if err == store.ErrConflict { // another replica created it first
			return "", nil
		}
		return "", err
	}
	return pw, nil
}
