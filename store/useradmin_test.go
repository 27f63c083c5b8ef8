package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/store/storetest"
)

func TestUserAdministration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		entry := func(action, target string) store.AuditEntry {
			return store.AuditEntry{Actor: "capo", Action: action, Target: target}
		}
		u, err := s.CreateUserWith(ctx, store.User{Username: "anna", Role: store.RoleOperator, PasswordHash: "x", Comuni: []string{"firenze"}},
			"+39055123456", entry(store.AuditUserCreate, "anna"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUserWith(ctx, store.User{Username: "anna", Role: store.RoleOperator, PasswordHash: "x"}, "", entry(store.AuditUserCreate, "anna")); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a second anna: %v", err)
		}
		name, cap, cats, lang := "Anna Bianchi", 3, []string{"contravvenzioni"}, "en"
		if err := s.UpdateUser(ctx, "anna", store.UserChange{Name: &name, Capacity: &cap, Categories: &cats, Lang: &lang}, entry(store.AuditUserUpdate, "anna")); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateUser(ctx, "nobody", store.UserChange{Name: &name}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("updating nobody: %v", err)
		}
		r, err := s.UserRecordOf(ctx, "anna")
		if err != nil || r.Name != name || r.Capacity != 3 || len(r.Categories) != 1 || r.Lang != "en" || r.Phone != "+39055123456" || r.Disabled || r.Open != 0 {
			t.Fatalf("record %+v %v", r, err)
		}
		if _, err := s.DisableUser(ctx, "anna", entry(store.AuditUserDisable, "anna")); err != nil {
			t.Fatal(err)
		}
		if rs, err := s.UserRecords(ctx); err != nil || len(rs) != 1 || !rs[0].Disabled {
			t.Fatalf("records %+v %v", rs, err)
		}
		if _, err := s.EnableUser(ctx, "anna", entry(store.AuditUserEnable, "anna")); err != nil {
			t.Fatal(err)
		}

		// Password change: the kept session lives, the others and no API token end.
		keep, _ := s.CreateToken(ctx, u.ID, store.TokenSession, 0)
		other, _ := s.CreateToken(ctx, u.ID, store.TokenSession, 0)
		script, err := s.CreateNamedToken(ctx, u.ID, store.TokenAPI, "notturno", 0, entry(store.AuditTokenCreate, "anna"))
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.ChangePassword(ctx, u.ID, "y", keep, entry(store.AuditPasswordChange, "anna"))
		if err != nil || n != 1 {
			t.Fatalf("change: %d %v", n, err)
		}
		for tok, kind := range map[string]string{keep: store.TokenSession, script: store.TokenAPI} {
			if _, err := s.UserByToken(ctx, tok, kind); err != nil {
				t.Errorf("%s token after the change: %v", kind, err)
			}
		}
		if _, err := s.UserByToken(ctx, other, store.TokenSession); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the other session after the change: %v", err)
		}

		toks, err := s.UserTokens(ctx, u.ID, store.TokenAPI)
		if err != nil || len(toks) != 1 || toks[0].Name != "notturno" || len(toks[0].ID) != store.TokenIDLength || !toks[0].Live(s.Now()) {
			t.Fatalf("tokens %+v %v", toks, err)
		}
		other2, _ := s.CreateUser(ctx, store.User{Username: "bruno", Role: store.RoleOperator, PasswordHash: "x"})
		if err := s.RevokeUserToken(ctx, other2.ID, toks[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoking someone else's token: %v", err)
		}
		if err := s.RevokeUserToken(ctx, u.ID, toks[0].ID, entry(store.AuditTokenRevoke, "anna")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserByToken(ctx, script, store.TokenAPI); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a revoked token works: %v", err)
		}

		// Keys: created, used, revoked, each audited with the key's id.
		ks := alertstore.New(s)
		k, secret, err := ks.CreateAPIKey(ctx, "firenze", "sito", entry(store.AuditAPIKeyCreate, ""))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error { return alertstore.CountAPIKeyUseTx(ctx, tx, k.ID) }); err != nil {
				t.Fatal(err)
			}
		}
		got, err := ks.APIKeyByID(ctx, k.ID)
		if err != nil || got.Requests != 3 || got.LastUsedAt == nil {
			t.Fatalf("key after 3 uses: %+v %v", got, err)
		}
		if err := ks.RevokeAPIKey(ctx, k.ID, entry(store.AuditAPIKeyRevoke, "")); err != nil {
			t.Fatal(err)
		}
		if _, err := ks.APIKeyByToken(ctx, secret); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a revoked key works: %v", err)
		}

		log, _, err := s.AuditLog(ctx, store.AuditFilter{Actor: "capo", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]string{}
		for _, e := range log {
			seen[e.Action] = e.Target
		}
		for _, a := range []string{store.AuditUserCreate, store.AuditUserUpdate, store.AuditUserDisable, store.AuditUserEnable,
			store.AuditPasswordChange, store.AuditTokenCreate, store.AuditTokenRevoke} {
			if seen[a] != "anna" {
				t.Errorf("audit %s: target %q", a, seen[a])
			}
		}
		if seen[store.AuditAPIKeyCreate] != k.ID || seen[store.AuditAPIKeyRevoke] != k.ID {
			t.Errorf("key audit targets %q %q, want %s", seen[store.AuditAPIKeyCreate], seen[store.AuditAPIKeyRevoke], k.ID)
		}
		// The refused second anna left no entry: one user_create only.
		creates := 0
		for _, e := range log {
			if e.Action == store.AuditUserCreate {
				creates++
			}
		}
		if creates != 1 {
			t.Errorf("%d user_create entries, want 1", creates)
		}
	})
}
