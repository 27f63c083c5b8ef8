package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

func TestRevokeAndDisableUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u, err := s.CreateUser(ctx, store.User{Username: "anna", Role: store.RoleOperator, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		works := func(tok, kind string) bool {
			_, err := s.UserByToken(ctx, tok, kind)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
			return err == nil
		}
		api, _ := s.CreateToken(ctx, u.ID, store.TokenAPI, 0)
		session, _ := s.CreateToken(ctx, u.ID, store.TokenSession, 0)
		if _, n, err := s.RevokeUserTokens(ctx, "anna"); err != nil || n != 2 {
			t.Fatalf("revoke: %d %v", n, err)
		}
		if works(api, store.TokenAPI) || works(session, store.TokenSession) {
			t.Fatal("a revoked token still works")
		}
		api, _ = s.CreateToken(ctx, u.ID, store.TokenAPI, 0)
		if _, err := s.DisableUser(ctx, "anna"); err != nil {
			t.Fatal(err)
		}
		if d, err := s.UserDisabled(ctx, u.ID); err != nil || !d {
			t.Fatalf("disabled = %v %v", d, err)
		}
		later, _ := s.CreateToken(ctx, u.ID, store.TokenAPI, 0)
		if works(api, store.TokenAPI) || works(later, store.TokenAPI) {
			t.Fatal("a disabled user's token works")
		}
		if _, err := s.EnableUser(ctx, "anna"); err != nil {
			t.Fatal(err)
		}
		if works(api, store.TokenAPI) || !works(later, store.TokenAPI) {
			t.Fatal("after enabling: the revoked token must stay revoked, the later one work")
		}
		if _, err := s.DisableUser(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("disabling nobody: %v", err)
		}
	})
}

// UserEnabled tells a user who may act (enabled) from a disabled one, and both from a name
// nobody has, or had before being deleted.
func TestUserEnabled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, name := range []string{"anna", "bruno", "carla"} {
			if _, err := s.CreateUser(ctx, store.User{Username: name, Role: store.RoleOperator, PasswordHash: "x"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.DisableUser(ctx, "bruno"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteUser(ctx, "carla"); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			username string
			enabled  bool
			err      error
		}{
			{"anna", true, nil},
			{"bruno", false, nil},
			{"carla", false, store.ErrNotFound},
			{"nobody", false, store.ErrNotFound},
			{"Anna", false, store.ErrNotFound},
		} {
			enabled, err := s.UserEnabled(ctx, c.username)
			if enabled != c.enabled || !errors.Is(err, c.err) {
				t.Errorf("UserEnabled(%q) = %v, %v; want %v, %v", c.username, enabled, err, c.enabled, c.err)
			}
		}
		if _, err := s.EnableUser(ctx, "bruno"); err != nil {
			t.Fatal(err)
		}
		if enabled, err := s.UserEnabled(ctx, "bruno"); !enabled || err != nil {
			t.Errorf("bruno enabled again: %v %v", enabled, err)
		}
	})
}
