package admin_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sportello/sportello/admin"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
	"github.com/sportello/sportello/web/auth"
)

func newService(t *testing.T) (*admin.Service, *store.Store) {
	t.Helper()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
data_dir: %q
comuni:
  - {id: firenze, name: Firenze}
  - {id: empoli, name: Empoli}
`, t.TempDir())))
	if err != nil {
		t.Fatal(err)
	}
	s := storetest.Open(t, store.SQLite)
	svc, err := admin.New(admin.Options{Store: s, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return svc, s
}

func kindOf(err error) admin.Kind {
	var ae *admin.Error
	if errors.As(err, &ae) {
		return ae.Kind
	}
	return 0
}

func mk(t *testing.T, s *store.Store, username, role string, comuni ...string) store.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), store.User{Username: username, Role: role, PasswordHash: "x", Comuni: comuni})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestScopeAndSelf(t *testing.T) {
	svc, s := newService(t)
	ctx := context.Background()
	root := mk(t, s, "root", store.RoleAdmin)
	fiSup := mk(t, s, "fi-sup", store.RoleSupervisor, "firenze")
	mk(t, s, "both", store.RoleOperator, "firenze", "empoli")
	mk(t, s, "central", store.RoleOperator)
	mk(t, s, "fi-admin", store.RoleAdmin, "firenze")
	fiOp := mk(t, s, "fi-op", store.RoleOperator, "firenze")

	list, err := svc.Users(ctx, fiSup)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range list {
		names = append(names, u.Username)
	}
	// Users of other comuni too, and central staff, are out of a Firenze supervisor's reach.
	if fmt.Sprint(names) != "[fi-admin fi-op fi-sup]" {
		t.Errorf("the Firenze supervisor sees %v", names)
	}
	for _, name := range []string{"both", "central", "root", "nobody"} {
		if _, err := svc.UpdateUser(ctx, fiSup, name, admin.Patch{Capacity: ptr(2)}); kindOf(err) != admin.NotFound {
			t.Errorf("changing %s: %v, want NotFound", name, err)
		}
	}
	if _, err := svc.UpdateUser(ctx, fiSup, "fi-admin", admin.Patch{Capacity: ptr(2)}); kindOf(err) != admin.Forbidden {
		t.Errorf("a supervisor changing an admin: %v, want Forbidden", err)
	}
	if _, err := svc.ResetPassword(ctx, fiSup, "fi-admin"); kindOf(err) != admin.Forbidden {
		t.Errorf("a supervisor resetting an admin's password: %v", err)
	}
	// Nobody disables themselves or changes their own role or comuni.
	if _, err := svc.UpdateUser(ctx, root, "root", admin.Patch{Disabled: ptr(true)}); kindOf(err) != admin.Forbidden {
		t.Errorf("disabling oneself: %v", err)
	}
	if _, err := svc.UpdateUser(ctx, fiSup, "fi-sup", admin.Patch{Role: ptr("admin")}); kindOf(err) != admin.Forbidden {
		t.Errorf("promoting oneself: %v", err)
	}
	if _, err := svc.UpdateUser(ctx, fiSup, "fi-sup", admin.Patch{Name: ptr("Capo")}); err != nil {
		t.Errorf("renaming oneself: %v", err)
	}
	// An operator manages nobody, and their keys neither.
	if _, err := svc.Users(ctx, fiOp); kindOf(err) != admin.Forbidden {
		t.Errorf("an operator listing users: %v", err)
	}
	if _, _, err := svc.CreateKey(ctx, fiOp, "firenze", "x"); kindOf(err) != admin.Forbidden {
		t.Errorf("an operator creating a key: %v", err)
	}
	// Bad input is Invalid, before anything is written.
	for _, n := range []admin.NewUser{
		{Username: "Maiuscolo", Comuni: []string{"firenze"}},
		{Username: "ok", Comuni: []string{"prato"}},
		{Username: "ok", Comuni: []string{"firenze"}, Categories: []string{"nessuna"}},
		{Username: "ok", Comuni: []string{"firenze"}, Capacity: 1000},
		{Username: "ok", Comuni: []string{"firenze"}, Phone: "non un numero"},
		{Username: "ok", Comuni: []string{"firenze"}, Name: "a\x00b"},
		{Username: "ok", Comuni: []string{"firenze"}, Password: "corta"},
	} {
		if _, _, err := svc.CreateUser(ctx, root, n); kindOf(err) != admin.Invalid {
			t.Errorf("%+v: %v, want Invalid", n, err)
		}
	}
	if _, err := s.UserByUsername(ctx, "ok"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused user exists: %v", err)
	}
}

func TestOwnPasswordAndTokens(t *testing.T) {
	svc, s := newService(t)
	ctx := context.Background()
	hash, err := auth.HashPassword("la-vecchia-password")
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, store.User{Username: "anna", Role: store.RoleOperator, PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ current, next, code string }{
		{"sbagliata", "Tramvia-Peretola-7", "wrong_password"},
		{"la-vecchia-password", "la-vecchia-password", "password_unchanged"},
		{"la-vecchia-password", "corta", "password_too_short"},
		{"la-vecchia-password", "Password2024!", "password_too_common"},
		{"la-vecchia-password", "anna-2026-xyz", "password_too_common"},
	} {
		err := svc.ChangePassword(ctx, u, "127.0.0.1", "", c.current, c.next)
		var ae *admin.Error
		if !errors.As(err, &ae) || ae.Code != c.code {
			t.Errorf("%q → %q: %v, want %s", c.current, c.next, err, c.code)
		}
	}
	if err := svc.ChangePassword(ctx, u, "127.0.0.1", "", "la-vecchia-password", "Tramvia-Peretola-7"); err != nil {
		t.Fatal(err)
	}
	after, _ := s.UserByID(ctx, u.ID)
	if !auth.CheckPassword(after.PasswordHash, "Tramvia-Peretola-7") {
		t.Error("the new password does not check")
	}
	tok, err := svc.CreateToken(ctx, u, "notturno")
	if err != nil {
		t.Fatal(err)
	}
	toks, _ := svc.Tokens(ctx, u)
	if len(toks) != 1 {
		t.Fatalf("tokens %+v", toks)
	}
	other := mk(t, s, "bruno", store.RoleOperator)
	if err := svc.RevokeToken(ctx, other, toks[0].ID); kindOf(err) != admin.NotFound {
		t.Errorf("revoking another's token: %v", err)
	}
	if err := svc.RevokeToken(ctx, u, toks[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByToken(ctx, tok, store.TokenAPI); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the revoked token: %v", err)
	}
	if err := svc.SetPreferences(ctx, u, admin.Preferences{Lang: "fr"}); kindOf(err) != admin.Invalid {
		t.Errorf("French: %v", err)
	}
	if err := svc.SetPreferences(ctx, u, admin.Preferences{Lang: "en", DefaultPresence: "available"}); err != nil {
		t.Fatal(err)
	}
	if r, _ := svc.Account(ctx, u); r.Lang != "en" || r.DefaultPresence != "available" {
		t.Errorf("preferences %+v", r)
	}
}

func ptr[T any](v T) *T { return &v }
