package jobs

import (
	"testing"
	"time"

	"github.com/sportello/sportello/store"
)

func TestPollIntervals(t *testing.T) {
	for _, c := range []struct {
		name                 string
		d                    store.Dialect
		configured, cooldown time.Duration
		client, background   time.Duration
	}{
		{"SQLite by default", store.SQLite, 0, 5 * time.Millisecond, 250 * time.Millisecond, time.Second},
		{"PostgreSQL by default", store.Postgres, 0, 5 * time.Millisecond, 100 * time.Millisecond, time.Second},
		{"configured: every queue", store.SQLite, 50 * time.Millisecond, 5 * time.Millisecond, 50 * time.Millisecond, 0},
		{"configured under the cooldown", store.SQLite, 50 * time.Millisecond, 80 * time.Millisecond, 80 * time.Millisecond, 0},
		// River refuses a queue that polls more often than it may fetch.
		{"a long cooldown", store.SQLite, 0, 2 * time.Second, 2 * time.Second, 2 * time.Second},
	} {
		client, background := pollIntervals(c.d, c.configured, c.cooldown)
		if client != c.client || background != c.background {
			t.Errorf("%s: %v and %v, want %v and %v", c.name, client, background, c.client, c.background)
		}
	}
}
