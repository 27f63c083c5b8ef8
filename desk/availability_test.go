package desk

import (
	"context"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// The answer "nobody" is kept on SQLite: a presence changed behind the desk's back is not seen
// until the desk moves the generation on, which proves the database is not asked each time.
// PostgreSQL's replicas change presences the others cannot see: there it always asks.
func TestNobodyAvailableIsRemembered(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u, err := s.CreateUser(ctx, store.User{Username: "anna", Role: store.RoleOperator, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		a := availability{enabled: s.Dialect() == store.SQLite}
		if any, err := a.anyAvailable(ctx, s); err != nil || any {
			t.Fatalf("anyAvailable = %v, %v with everyone offline", any, err)
		}
		err = s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := s.SetPresenceTx(ctx, tx, u.ID, "available")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		any, err := a.anyAvailable(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if want := s.Dialect() == store.Postgres; any != want {
			t.Fatalf("anyAvailable = %v after a change the desk was not told of, want %v on %s", any, want, s.Dialect())
		}
		a.becameAvailable()
		if any, err := a.anyAvailable(ctx, s); err != nil || !any {
			t.Fatalf("anyAvailable = %v, %v after the change was announced", any, err)
		}
	})
}
