package reports_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/reports"
	"github.com/sportello/sportello/store"
)

// fixture is one contact written straight into the tables, with exact times.
type fixture struct {
	id, channel, comune, category, status, outcome string
	received                                       time.Time
	result                                         string // calls: answered, abandoned
	wait, talk                                     int    // -1: unknown
	firstReply                                     time.Duration
}

func insertFixtures(t testing.TB, st *store.Store, fs []fixture) {
	t.Helper()
	ctx := context.Background()
	err := st.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO citizens (id, created_at, updated_at) VALUES ('cit', 0, 0) ON CONFLICT (id) DO NOTHING`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A transaction per 5,000 contacts: one for a year outlasted the PostgreSQL writer's
	// batch deadline (30 s) on a loaded machine.
	for from := 0; from < len(fs); from += 5000 {
		if err := st.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			return insertChunk(ctx, tx, fs[from:min(from+5000, len(fs))])
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// insertChunk inserts contacts 500 to a statement.
func insertChunk(ctx context.Context, tx *store.Tx, fs []fixture) error {
	for start := 0; start < len(fs); start += 500 {
		chunk := fs[start:min(start+500, len(fs))]
		var b strings.Builder
		var args []any
		b.WriteString(`INSERT INTO contacts (id, channel, direction, comune, citizen_id, from_addr, to_addr, category, status,
			outcome, call_result, call_wait_seconds, call_talk_seconds, received_at, updated_at, resolved_at, first_response_at) VALUES `)
		for i, f := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, 'inbound', ?, 'cit', 'x', 'y', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			var resolved, firstReply any
			if f.firstReply > 0 {
				firstReply = store.Micros(f.received.Add(f.firstReply))
			}
			if f.status == "resolved" {
				resolved = store.Micros(f.received.Add(time.Hour))
			}
			args = append(args, f.id, f.channel, null(f.comune), null(f.category), f.status, null(f.outcome), null(f.result),
				nullInt(f.wait), nullInt(f.talk), store.Micros(f.received), store.Micros(f.received), resolved, firstReply)
		}
		if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int) any {
	if n < 0 {
		return nil
	}
	return n
}

func demoConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newService(t testing.TB, st *store.Store, now time.Time) *reports.Service {
	t.Helper()
	svc, err := reports.New(reports.Options{Store: st, Config: demoConfig(t), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

var _ = fmt.Sprint
