package desk_test

import (
	"context"
	"testing"

	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// An operator of a comune the shared number serves decides an undecided contact for another of
// those comuni; a decided contact stays within their own comuni.
func TestRerouteBySharedComuneOperator(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		fi := f.user("fi", store.RoleOperator, "firenze")
		fi.SeesUndecided = true // the store sets it for the comuni of shared_comuni (store tests)
		r := f.text("+393335550002", "+39055055", "una domanda")
		if err := f.d.Reroute(ctx, fi, r.ContactID, desk.Route{Comune: "empoli"}); err != nil {
			t.Fatalf("deciding an undecided contact for Empoli: %v", err)
		}
		if c := f.contact(r.ContactID); str(c.Comune) != "empoli" {
			t.Fatalf("comune %s, want empoli", str(c.Comune))
		}
		if st, _ := deskCode(t, f.d.Reroute(ctx, fi, r.ContactID, desk.Route{Comune: "firenze"})); st != 404 {
			t.Fatalf("the contact left the Firenze operator's comuni, yet they moved it: %d", st)
		}
		own := f.text("+393335550003", "+390552768000", "multa")
		if st, code := deskCode(t, f.d.Reroute(ctx, fi, own.ContactID, desk.Route{Comune: "empoli"})); st != 403 || code != "forbidden" {
			t.Fatalf("moving a decided Firenze contact to Empoli: %d %s", st, code)
		}
	})
}

// The presence an operator chose comes back at their next login; logout and expiry set them
// offline without forgetting it; a chosen offline stays.
func TestPresenceComesBackAtLogin(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		op := f.user("op", store.RoleOperator, "firenze")
		presence := func() store.User {
			u, err := s.UserByUsername(ctx, "op")
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		for _, chosen := range []string{"available", "away", "offline"} {
			if err := f.d.SetPresence(ctx, op, chosen); err != nil {
				t.Fatal(err)
			}
			if err := f.d.SessionEnded(ctx, op); err != nil {
				t.Fatal(err)
			}
			if p := presence().Presence; p != "offline" {
				t.Fatalf("after the last session ended (chose %s): %s", chosen, p)
			}
			if err := f.d.SessionStarted(ctx, presence()); err != nil {
				t.Fatal(err)
			}
			if p := presence().Presence; p != chosen {
				t.Fatalf("at the next login: %s, want the chosen %s", p, chosen)
			}
		}
	})
}
