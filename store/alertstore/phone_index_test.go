package alertstore

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// The statements that find a number's recipients (a STOP cancels what is still queued, an
// erasure rewrites the number) search alert_recipients_phone, which since migration 0030 holds
// the number alone: a recipient's status changes no longer move its entry.
func TestRecipientsOfANumberAreFoundByTheIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		d := st.Dialect()
		ctx := context.Background()
		var values []string
		for i := range 2000 {
			values = append(values, fmt.Sprintf("('a%d', %d, 0, '+39347%07d', 'queued', 1)", i%4, i, i))
		}
		if _, err := st.DB().ExecContext(ctx, "INSERT INTO alert_recipients (alert_id, seq, batch, phone, status, updated_at) VALUES "+strings.Join(values, ",")); err != nil {
			t.Fatal(err)
		}
		if _, err := st.DB().ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		def := "SELECT sql FROM sqlite_schema WHERE name = 'alert_recipients_phone'"
		if d == store.Postgres {
			def = "SELECT indexdef FROM pg_indexes WHERE indexname = 'alert_recipients_phone'"
		}
		var sql string
		if err := st.DB().QueryRowContext(ctx, def).Scan(&sql); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(sql, "status") {
			t.Errorf("alert_recipients_phone holds the status again: %s", sql)
		}
		explain := "EXPLAIN QUERY PLAN "
		if d == store.Postgres {
			explain = "EXPLAIN "
		}
		for name, q := range map[string]string{
			"stop":    "UPDATE alert_recipients SET status = 'cancelled', error = 'stop', updated_at = ? WHERE phone = ? AND status = 'queued'",
			"erasure": "UPDATE alert_recipients SET phone = ?, status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END, updated_at = ? WHERE phone = ?",
		} {
			args := []any{2, "+393470000042"}
			if name == "erasure" {
				args = []any{"erased", 2, "+393470000042"}
			}
			rows, err := st.Query(ctx, explain+q, args...)
			lines, err := store.Collect(rows, err, func(r interface{ Scan(...any) error }) (string, error) {
				if d == store.Postgres {
					var s string
					return s, r.Scan(&s)
				}
				var id, parent, unused int
				var s string
				return s, r.Scan(&id, &parent, &unused, &s)
			})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if plan := strings.Join(lines, "\n"); !strings.Contains(plan, "alert_recipients_phone") {
				t.Errorf("%s does not search alert_recipients_phone:\n%s", name, plan)
			}
		}
	})
}
