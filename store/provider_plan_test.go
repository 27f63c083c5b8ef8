package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// PostgreSQL plans a prepared statement once for every run after its fifth (a generic plan)
// when that plan looks no dearer, and keeps it for the connection's life. Made while the
// tables are still empty, a plan that scans contacts looks cheapest and stays: on a busy day
// (bench/busyday.sh) the lookup of a call by its provider id, run for every call event, then
// read every contact each time, and two replicas fell from 180 to 95 contacts a second as the
// table grew. The lookups by provider id must read contacts by primary key in a generic plan
// made on an empty database.
func TestProviderIDLookupsKeepTheirIndexesInAGenericPlan(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if _, err := conn.ExecContext(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		t.Fatal(err)
	}
	for name, q := range store.ProviderIDQueries {
		q = strings.Replace(strings.Replace(strings.Replace(q, "?", "$1", 1), "?", "$2", 1), "?", "$3", 1)
		if _, err := conn.ExecContext(ctx, "PREPARE lookup (text, text, text) AS "+q); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rows, err := conn.QueryContext(ctx, "EXPLAIN EXECUTE lookup ('phone', 'CA0123', 'CA0123')")
		if err != nil {
			t.Fatal(err)
		}
		var plan strings.Builder
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(line + "\n")
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		_ = rows.Close()
		if _, err := conn.ExecContext(ctx, "DEALLOCATE lookup"); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(plan.String(), "Seq Scan") || !strings.Contains(plan.String(), "contacts_pkey") {
			t.Errorf("%s: the generic plan does not read contacts by primary key:\n%s", name, plan.String())
		}
	}
}
