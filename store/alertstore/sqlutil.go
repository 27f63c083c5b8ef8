package alertstore

import (
	"database/sql"
	"strings"
	"time"

	"github.com/sportello/sportello/store"
)

// Small helpers copied from store, where they are unexported.

func nullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := store.FromMicros(v.Int64)
	return &t
}

func strOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scanString reads a one-column row, for store.Collect.
func scanString(row interface{ Scan(...any) error }) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
