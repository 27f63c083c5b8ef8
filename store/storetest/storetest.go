// Package storetest opens fresh, migrated stores for tests on both databases. PostgreSQL comes
// from $SPORTELLO_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/postgres); each test
// gets its own database, dropped afterwards. Under CI=true an unreachable PostgreSQL fails the
// test instead of skipping it.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/store"
)

// AdminURL is the PostgreSQL server tests create their databases on.
func AdminURL() string {
	if u := os.Getenv("SPORTELLO_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Dialects lists the databases every store test runs on.
var Dialects = []store.Dialect{store.SQLite, store.Postgres}

// RequirePeer skips a test whose peer is missing, or fails it under CI=true.
func RequirePeer(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true: %v", what, err)
	}
	t.Skipf("%s unavailable: %v", what, err)
}

// NewDatabaseURL returns the URL of a new empty database: "" (SQLite) or a fresh PostgreSQL
// database that is dropped when the test ends.
func NewDatabaseURL(t testing.TB, d store.Dialect) string {
	t.Helper()
	if d == store.SQLite {
		return ""
	}
	return NewDatabaseURLOn(t, AdminURL())
}

// NewDatabaseURLOn is NewDatabaseURL on the PostgreSQL server of adminURL (a test's own
// server), rather than the one of AdminURL.
func NewDatabaseURLOn(t testing.TB, adminURL string) string {
	t.Helper()
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := admin.Close(); err != nil {
			t.Error(err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	RequirePeer(t, "PostgreSQL at "+adminURL, admin.PingContext(ctx))
	name := fmt.Sprintf("sportello_test_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Open returns a migrated store on a new database of the given dialect, closed when the test ends.
func Open(t testing.TB, d store.Dialect) *store.Store {
	t.Helper()
	s, _ := OpenURL(t, d)
	return s
}

// OpenURL is Open that also returns the database URL ("" for SQLite).
func OpenURL(t testing.TB, d store.Dialect) (*store.Store, string) {
	t.Helper()
	return OpenURLWith(t, d, store.Options{})
}

// OpenWith is Open with opts (a clock, a pool size); their URL and DataDir are the new
// database's.
func OpenWith(t testing.TB, d store.Dialect, opts store.Options) *store.Store {
	t.Helper()
	s, _ := OpenURLWith(t, d, opts)
	return s
}

// OpenURLWith is OpenWith that also returns the database URL ("" for SQLite). The data folder
// is opts.DataDir when set, else one of the test's.
func OpenURLWith(t testing.TB, d store.Dialect, opts store.Options) (*store.Store, string) {
	t.Helper()
	dbURL := NewDatabaseURL(t, d)
	opts.URL = dbURL
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	s, err := store.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, dbURL
}

// Each runs f as a subtest on every dialect.
func Each(t *testing.T, f func(t *testing.T, s *store.Store)) {
	EachWith(t, store.Options{}, f)
}

// EachWith is Each with the stores opened with opts (see OpenWith). The dialects' subtests run
// one after the other and share opts: a Clock in it keeps the advances of the earlier ones.
func EachWith(t *testing.T, opts store.Options, f func(t *testing.T, s *store.Store)) {
	for _, d := range Dialects {
		t.Run(strings.ToLower(string(d)), func(t *testing.T) {
			f(t, OpenWith(t, d, opts))
		})
	}
}

// Clock runs with real time and can be moved ahead at once. A test gives its Now to a store
// (and to the services over it) to cross a threshold (a heartbeat's age, a lease, a send_at)
// without sleeping past it, while whatever is paced by real time keeps its pace. The zero
// Clock reads the real time.
type Clock struct {
	mu    sync.Mutex
	ahead time.Duration
}

// Now is the real time moved ahead by every Advance so far.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.ahead)
}

// Advance moves the clock d ahead.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ahead += d
}
