package store_test

import (
	"context"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// A scoped admin's audit log holds only entries about their comuni's contacts and citizens,
// and presence changes of users who share a comune with them, on both databases.
func TestAuditLogScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ingest := func(sid, from, comune string) string {
			r := sms(sid, from, "x")
			r.Comune = comune
			res, err := s.Ingest(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			return res.ContactID
		}
		fi, emp := ingest("SM1", "+393471111111", "firenze"), ingest("SM2", "+393472222222", "empoli")
		for _, u := range []store.User{{Username: "fi-op", Comuni: []string{"firenze"}}, {Username: "emp-op", Comuni: []string{"empoli"}},
			{Username: "both", Comuni: []string{"empoli", "firenze"}}, {Username: "central"}} {
			u.Role, u.PasswordHash = store.RoleOperator, "x"
			if _, err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range []store.AuditEntry{
			{Actor: "system", Action: store.AuditAssign, ContactID: &fi, Target: "fi-op"},
			{Actor: "system", Action: store.AuditAssign, ContactID: &emp, Target: "emp-op"},
			{Actor: "fi-op", Action: store.AuditPresence, Target: "available"},
			{Actor: "emp-op", Action: store.AuditPresence, Target: "away"},
			{Actor: "both", Action: store.AuditPresence, Target: "offline"},
			{Actor: "central", Action: store.AuditPresence, Target: "away"},
		} {
			if err := s.Audit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		seen := func(sc store.Scope) map[string]bool {
			items, _, err := s.AuditLog(ctx, store.AuditFilter{Scope: sc})
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, e := range items {
				out[e.Actor+">"+e.Target] = true
			}
			return out
		}
		got := seen(store.Scope{Comuni: []string{"firenze"}})
		want := map[string]bool{"system>fi-op": true, "fi-op>available": true, "both>offline": true}
		if len(got) != len(want) {
			t.Fatalf("firenze sees %v, want %v", got, want)
		}
		for k := range want {
			if !got[k] {
				t.Fatalf("firenze sees %v, want %v", got, want)
			}
		}
		if n := len(seen(store.Scope{})); n != 6 {
			t.Fatalf("an unscoped admin sees %d entries, want 6", n)
		}
		if n := len(seen(store.Scope{Comuni: []string{}})); n != 0 {
			t.Fatalf("an empty scope sees %d entries", n)
		}
	})
}

// Administration entries follow what they are about, not who did it: a Firenze-only admin does
// not read the Empoli key or the Empoli user that a colleague covering both comuni dealt with,
// and does read what concerns Firenze (by its comune, or by the user concerned).
func TestAuditLogScopeOfAdministration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, u := range []store.User{{Username: "fi-op", Comuni: []string{"firenze"}}, {Username: "emp-op", Comuni: []string{"empoli"}},
			{Username: "both", Comuni: []string{"empoli", "firenze"}}} {
			u.Role, u.PasswordHash = store.RoleOperator, "x"
			if _, err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range []store.AuditEntry{
			{Actor: "both", Action: store.AuditAPIKeyCreate, Detail: "empoli key", Comune: "empoli"},
			{Actor: "both", Action: store.AuditAPIKeyCreate, Detail: "firenze key", Comune: "firenze"},
			{Actor: "both", Action: store.AuditPasswordReset, Target: "emp-op", Detail: "empoli user"},
			{Actor: "both", Action: store.AuditUserUpdate, Target: "fi-op", Detail: "firenze user"},
			{Actor: "both", Action: store.AuditPresence, Target: "away", Detail: "presence of both"},
		} {
			if err := s.Audit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		items, _, err := s.AuditLog(ctx, store.AuditFilter{Scope: store.Scope{Comuni: []string{"firenze"}}})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, e := range items {
			got[e.Detail] = true
		}
		want := map[string]bool{"firenze key": true, "firenze user": true, "presence of both": true}
		if len(got) != len(want) || !got["firenze key"] || !got["firenze user"] || !got["presence of both"] {
			t.Fatalf("firenze reads %v, want %v", got, want)
		}
		for _, e := range items {
			if e.Detail == "firenze key" && e.Comune != "firenze" {
				t.Fatalf("the entry's comune reads back as %q", e.Comune)
			}
		}
	})
}
