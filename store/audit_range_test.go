package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// The audit log's date range keeps entries at or after Since and before Until, with the other
// filters and the pages of the cursor, on both databases.
func TestAuditLogDateRange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		day := func(d int) time.Time { return time.Date(2026, 11, d, 10, 0, 0, 0, time.UTC) }
		for d := 1; d <= 6; d++ {
			action := store.AuditPresence
			if d%2 == 0 {
				action = store.AuditClaim
			}
			if err := s.Audit(ctx, store.AuditEntry{At: day(d), Actor: "anna", Action: action, Target: "x"}); err != nil {
				t.Fatal(err)
			}
		}
		days := func(f store.AuditFilter) []int {
			var out []int
			for {
				items, next, err := s.AuditLog(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range items {
					out = append(out, e.At.Day())
				}
				if next == "" {
					return out
				}
				f.Cursor = next
			}
		}
		if got := days(store.AuditFilter{Since: day(2), Until: day(5), Limit: 1}); !equalInts(got, []int{4, 3, 2}) {
			t.Fatalf("days 2 to 5: %v", got)
		}
		if got := days(store.AuditFilter{Since: day(3), Action: store.AuditClaim}); !equalInts(got, []int{6, 4}) {
			t.Fatalf("claims since day 3: %v", got)
		}
		if got := days(store.AuditFilter{Until: day(2).Add(time.Microsecond)}); !equalInts(got, []int{2, 1}) {
			t.Fatalf("until day 2: %v", got)
		}
		if got := days(store.AuditFilter{Since: day(7)}); len(got) != 0 {
			t.Fatalf("after the last entry: %v", got)
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
