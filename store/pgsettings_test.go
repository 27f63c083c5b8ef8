package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// The advice follows the server's own settings (this machine's PostgreSQL runs without
// autovacuum; a production one should not).
func TestPostgresSettingsAdvice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		advice, err := s.PostgresSettingsAdvice(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Dialect() == store.SQLite {
			if len(advice) != 0 {
				t.Fatalf("advice on SQLite: %q", advice)
			}
			return
		}
		var autovacuum string
		if err := s.QueryRow(ctx, "SHOW autovacuum").Scan(&autovacuum); err != nil {
			t.Fatal(err)
		}
		warned := strings.Contains(strings.Join(advice, "\n"), "autovacuum is off")
		if warned != (autovacuum == "off") {
			t.Fatalf("autovacuum %s, advice %q", autovacuum, advice)
		}
	})
}
