package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// IsRefusedData tells a write that fails for the data it carries (the same message fails
// again on every attempt) from one that fails for the database's state (retrying can work).
func TestIsRefusedDataTellsTheDataFromTheDatabasesState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		conn := oneConn(t, s)
		if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE refusal_probe (v TEXT NOT NULL UNIQUE)"); err != nil {
			t.Fatal(err)
		}
		insert := func(v any) error {
			q := "INSERT INTO refusal_probe (v) VALUES (?)"
			if s.Dialect() == store.Postgres {
				q = "INSERT INTO refusal_probe (v) VALUES ($1)"
			}
			_, err := conn.ExecContext(ctx, q, v)
			return err
		}
		if err := insert("uno"); err != nil {
			t.Fatal(err)
		}
		refused := map[string]error{"a NULL in a NOT NULL column": insert(nil)}
		if s.Dialect() == store.Postgres {
			refused["a NUL in text"] = insert("a\x00b")
			refused["invalid UTF-8 in text"] = insert("a\xffb")
		}
		for what, err := range refused {
			if err == nil {
				t.Errorf("%s: the database accepted it", what)
				continue
			}
			if !store.IsRefusedData(err) || !store.IsRefusedData(fmt.Errorf("wrapped: %w", err)) {
				t.Errorf("%s: %v not recognized as a refusal of the data", what, err)
			}
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_, cancelErr := conn.ExecContext(cancelled, "SELECT 1")
		notRefused := map[string]error{
			"a uniqueness conflict (a race another attempt resolves)": insert("uno"),
			"a cancelled context":     cancelErr,
			"an error of no database": errors.New("connection reset by peer"),
		}
		for what, err := range notRefused {
			if err == nil {
				t.Errorf("%s: no error to classify", what)
				continue
			}
			if store.IsRefusedData(err) {
				t.Errorf("%s: %v taken for a refusal of the data", what, err)
			}
		}
		if store.IsRefusedData(nil) {
			t.Error("nil is not a refusal")
		}
	})
}
