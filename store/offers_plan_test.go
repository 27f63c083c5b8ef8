package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// The sweep of expired offers runs every SLA round on every replica: it must read the partial
// index of the calls waiting for their operator (a handful of rows), never the contacts.
func TestStaleOffersReadTheirPartialIndex(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		explain := "EXPLAIN QUERY PLAN "
		conn, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close() }()
		q := store.StaleOffersQuery
		if s.Dialect() == store.Postgres {
			// An empty table is cheaper to scan: ask whether the index can serve at all.
			explain = "EXPLAIN "
			if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
				t.Fatal(err)
			}
			q = strings.Replace(strings.Replace(strings.Replace(q, "?", "$1", 1), "?", "$2", 1), "?", "$3", 1)
		}
		rows, err := conn.QueryContext(ctx, explain+q, 1, 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = rows.Close() }()
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		var plan strings.Builder
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				fmt.Fprint(&plan, v, " ")
			}
			plan.WriteString("\n")
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan.String(), "contacts_call_offers") || strings.Contains(plan.String(), "TEMP B-TREE") {
			t.Fatalf("the sweep does not read contacts_call_offers in order:\n%s", plan.String())
		}
	})
}
