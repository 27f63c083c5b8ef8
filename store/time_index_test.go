package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// Each new row's time is the largest yet: in a descending index it goes first, and SQLite
// rebalances the leftmost leaf with its neighbours, two to three pages a commit where an
// ascending index appends to its last leaf (migration 0036). The newest-first lists must still
// read these indexes, backwards, without sorting.
func TestTimeIndexesAscendAndServeNewestFirst(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		conn := oneConn(t, s)
		for _, name := range []string{"contacts_received", "contacts_citizen", "outbox_created", "audit_log_at"} {
			if def := indexDefinition(t, conn, s.Dialect(), name); strings.Contains(strings.ToUpper(def), "DESC") {
				t.Errorf("%s is descending again: %s", name, def)
			}
		}
		for index, q := range map[string]string{
			"contacts_received": "SELECT id FROM contacts c ORDER BY c.received_at DESC, c.id DESC LIMIT 51",
			"audit_log_at":      "SELECT id FROM audit_log ORDER BY at DESC, id DESC LIMIT 51",
			"outbox_created":    "SELECT id FROM outbox ORDER BY created_at DESC LIMIT 51",
		} {
			plan := explain(t, conn, s.Dialect(), q)
			if !strings.Contains(plan, index) || strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "Sort") {
				t.Errorf("%q does not read %s in order:\n%s", q, index, plan)
			}
		}
	})
}

// New contacts have no assignee and write nothing to contacts_assignee (migration 0037); the
// reads by operator (their load, their contacts) still search it.
func TestContactsAssigneeHoldsAssignedContactsOnly(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		conn := oneConn(t, s)
		if def := indexDefinition(t, conn, s.Dialect(), "contacts_assignee"); !strings.Contains(strings.ToUpper(def), "ASSIGNEE IS NOT NULL") {
			t.Errorf("contacts_assignee holds every contact again: %s", def)
		}
		for _, q := range []string{
			"SELECT COUNT(*) FROM contacts c WHERE c.assignee = ? AND c.status = 'assigned'",
			"SELECT id FROM contacts WHERE assignee = ? AND status = 'assigned'",
		} {
			if plan := explain(t, conn, s.Dialect(), q, "mrossi"); !strings.Contains(plan, "contacts_assignee") {
				t.Errorf("%q does not search contacts_assignee:\n%s", q, plan)
			}
		}
	})
}

// oneConn is one connection of the store's writer pool, for settings and temporary tables
// that last as long as a connection; it is closed when the test ends.
func oneConn(t *testing.T, s *store.Store) *sql.Conn {
	t.Helper()
	conn, err := s.DB().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// indexDefinition is the CREATE INDEX statement of an index, as the database keeps it.
func indexDefinition(t *testing.T, conn *sql.Conn, d store.Dialect, name string) string {
	t.Helper()
	q := "SELECT sql FROM sqlite_schema WHERE name = ?"
	if d == store.Postgres {
		q = "SELECT indexdef FROM pg_indexes WHERE indexname = $1"
	}
	var def string
	if err := conn.QueryRowContext(context.Background(), q, name).Scan(&def); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return def
}

// explain returns the plan of q on conn. On PostgreSQL, sequential and bitmap scans are off for
// the connection: on the tests' nearly empty tables they look cheaper, and the question is
// whether an index can serve at all.
func explain(t *testing.T, conn *sql.Conn, d store.Dialect, q string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	prefix := "EXPLAIN QUERY PLAN "
	if d == store.Postgres {
		prefix = "EXPLAIN "
		for _, set := range []string{"SET enable_seqscan = off", "SET enable_bitmapscan = off"} {
			if _, err := conn.ExecContext(ctx, set); err != nil {
				t.Fatal(err)
			}
		}
		for i := range args {
			q = strings.Replace(q, "?", fmt.Sprintf("$%d", i+1), 1)
		}
	}
	rows, err := conn.QueryContext(ctx, prefix+q, args...)
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
	return plan.String()
}
