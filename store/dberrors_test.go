package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// Uniqueness errors are recognized by the database's code, on both databases and through
// wrapping, and an error that only quotes such a message is not one.
func TestUniqueViolationByCode(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			s := storetest.Open(t, d)
			ctx := context.Background()
			insert := func() error {
				return s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
					_, err := tx.Exec(ctx, "INSERT INTO outbox (id, channel, to_addr, from_addr, body, created_at) VALUES ('OB1', 'sms', '+39', '+39', 'x', 1)")
					return err
				})
			}
			if err := insert(); err != nil {
				t.Fatal(err)
			}
			err := insert()
			if err == nil {
				t.Fatal("a duplicate primary key was accepted")
			}
			if !store.IsUniqueViolation(err) || !store.IsUniqueViolation(fmt.Errorf("saving: %w", err)) {
				t.Errorf("%v (%T) is not recognized as a unique violation", err, err)
			}
			if _, err := s.Query(ctx, "SELECT nope FROM outbox"); err == nil || store.IsUniqueViolation(err) {
				t.Errorf("another database error counts as a unique violation: %v", err)
			}
		})
	}
	for _, text := range []string{
		`UNIQUE constraint failed: users.username`,
		`ERROR: duplicate key value violates unique constraint "users_pkey" (SQLSTATE 23505)`,
	} {
		if store.IsUniqueViolation(errors.New("import refused: " + text)) {
			t.Errorf("an error that only quotes %q counts as a unique violation", text)
		}
	}
}
