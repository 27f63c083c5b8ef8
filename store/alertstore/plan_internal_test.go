package alertstore

import (
	"context"
	"strings"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// On PostgreSQL without statistics (a new alert's id is in none, and a fresh table has none at
// all), a chunk's statements must search the index for their seqs. With the list alone the
// planner searched by alert and batch and filtered the seqs out of every recipient there:
// each chunk read the whole batch, or the whole alert.
func TestChunkConditionsSearchTheIndexWithoutStatistics(t *testing.T) {
	st := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	if _, err := st.DB().ExecContext(ctx, `INSERT INTO alert_recipients (alert_id, seq, batch, phone, status, updated_at)
		SELECT 'a1', g, 0, '+39347' || g, 'queued', 1 FROM generate_series(1, 5000) AS g`); err != nil {
		t.Fatal(err)
	}
	inSeqs, seqArgs := seqsIn([]int64{2001, 2002, 2050, 2200})
	for name, q := range map[string]struct {
		sql  string
		args []any
	}{
		"claim":    {"UPDATE alert_recipients SET status = 'sending' WHERE alert_id = ? AND batch = ? AND " + inSeqs + " AND status = 'queued'", append([]any{"a1", 0}, seqArgs...)},
		"channels": {"UPDATE alert_recipients SET channel = 'sms' WHERE alert_id = ? AND " + inSeqs, append([]any{"a1"}, seqArgs...)},
	} {
		rows, err := st.Query(ctx, "EXPLAIN "+q.sql, q.args...)
		lines, err := store.Collect(rows, err, func(r interface{ Scan(...any) error }) (string, error) {
			var s string
			return s, r.Scan(&s)
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		plan := strings.Join(lines, "\n")
		cond := ""
		for _, l := range lines {
			if strings.Contains(l, "Index Cond") {
				cond = l
			}
		}
		if !strings.Contains(cond, "seq >=") || !strings.Contains(cond, "seq <=") {
			t.Errorf("%s: the index is not searched for the chunk's seqs:\n%s", name, plan)
		}
	}
}
