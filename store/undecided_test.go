package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// Contacts whose comune is undecided reach the users of Options.UndecidedComuni (and unscoped
// ones), not the others; comune "-" lists only them; on both databases.
func TestUndecidedContactsScope(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(strings.ToLower(string(d)), func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, store.Options{URL: storetest.NewDatabaseURL(t, d), DataDir: t.TempDir(), UndecidedComuni: []string{"firenze", "empoli"}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Error(err)
				}
			})
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			ingest := func(sid, comune string) string {
				r := sms(sid, "+39347000000"+sid[len(sid)-1:], "x")
				if comune != "" {
					r.Comune = comune
				}
				res, err := s.Ingest(ctx, r)
				if err != nil {
					t.Fatal(err)
				}
				return res.ContactID
			}
			fi, undecided, sesto := ingest("SM1", "firenze"), ingest("SM2", ""), ingest("SM3", "sesto-fiorentino")
			users := map[string]store.User{}
			for _, u := range []store.User{{Username: "fi", Comuni: []string{"firenze"}}, {Username: "sesto", Comuni: []string{"sesto-fiorentino"}}, {Username: "central"}} {
				u.Role, u.PasswordHash = store.RoleOperator, "x"
				if _, err := s.CreateUser(ctx, u); err != nil {
					t.Fatal(err)
				}
				if users[u.Username], err = s.UserByUsername(ctx, u.Username); err != nil {
					t.Fatal(err)
				}
			}
			if !users["fi"].SeesUndecided || users["sesto"].SeesUndecided {
				t.Fatalf("SeesUndecided: fi %v, sesto %v", users["fi"].SeesUndecided, users["sesto"].SeesUndecided)
			}
			list := func(u store.User, comune string) map[string]bool {
				items, _, err := s.ListContacts(ctx, store.ContactFilter{Scope: u.Scope(), Comune: comune})
				if err != nil {
					t.Fatal(err)
				}
				out := map[string]bool{}
				for _, c := range items {
					out[c.ID] = true
				}
				return out
			}
			if got := list(users["fi"], ""); len(got) != 2 || !got[fi] || !got[undecided] {
				t.Errorf("the Firenze operator sees %v, want firenze's and the undecided one", got)
			}
			if got := list(users["sesto"], ""); len(got) != 1 || !got[sesto] {
				t.Errorf("the Sesto operator sees %v, want only sesto's", got)
			}
			if got := list(users["central"], ""); len(got) != 3 {
				t.Errorf("an unscoped user sees %d contacts, want 3", len(got))
			}
			if got := list(users["fi"], store.ComuneUndecided); len(got) != 1 || !got[undecided] {
				t.Errorf("comune=- for the Firenze operator: %v", got)
			}
			if got := list(users["sesto"], store.ComuneUndecided); len(got) != 0 {
				t.Errorf("comune=- for the Sesto operator: %v", got)
			}
			if _, err := s.GetContact(ctx, undecided, users["fi"].Scope()); err != nil {
				t.Errorf("the Firenze operator opens the undecided contact: %v", err)
			}
			if _, err := s.GetContact(ctx, undecided, users["sesto"].Scope()); err != store.ErrNotFound {
				t.Errorf("the Sesto operator opens the undecided contact: %v", err)
			}
			// Who may be given it is who sees it: the Firenze operator and the unscoped one.
			candidates := func(comune string) (names []string) {
				err := s.WriteAlone(ctx, func(ctx context.Context, tx *store.Tx) error {
					names = nil
					list, err := s.CandidatesTx(ctx, tx, comune, "")
					for _, o := range list {
						names = append(names, o.Username)
						if o.TakesUndecided != (o.Username == "fi") {
							t.Errorf("%s TakesUndecided %v", o.Username, o.TakesUndecided)
						}
					}
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				return names
			}
			if err := s.WriteAlone(ctx, func(ctx context.Context, tx *store.Tx) error {
				for _, u := range users {
					if _, err := s.SetPresenceTx(ctx, tx, u.ID, "available"); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(candidates(""), ","); got != "central,fi" {
				t.Errorf("candidates for an undecided contact: %s", got)
			}
			if got := strings.Join(candidates("sesto-fiorentino"), ","); got != "central,sesto" {
				t.Errorf("candidates for a Sesto contact: %s", got)
			}
		})
	}
}
