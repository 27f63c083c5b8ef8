package store

import (
	"context"
	"fmt"
)

// PostgresSettingsAdvice names PostgreSQL settings that work against Sportello, one sentence
// each for the operator's log; none on SQLite or when all is well.
//
// Without autovacuum (or the statistics it needs) PostgreSQL never analyzes the tables, and a
// statement prepared while they were small keeps its plan for the connection's life: a busy
// day's call events once scanned the whole contacts table each (BENCHMARKS.md, issue 14).
func (s *Store) PostgresSettingsAdvice(ctx context.Context) ([]string, error) {
	if s.dialect != Postgres {
		return nil, nil
	}
	var advice []string
	for _, name := range []string{"autovacuum", "track_counts"} {
		var v string
		if err := s.db.QueryRowContext(ctx, "SELECT setting FROM pg_settings WHERE name = $1", name).Scan(&v); err != nil {
			return nil, err
		}
		if v != "on" {
			advice = append(advice, fmt.Sprintf("PostgreSQL's %s is %s: the tables' statistics are never refreshed, and queries keep plans made on nearly empty tables as they grow; turn it on, or run ANALYZE regularly", name, v))
		}
	}
	return advice, nil
}
