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
	admin, err := sql.Open("pgx", AdminURL())
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
	RequirePeer(t, "PostgreSQL at "+AdminURL(), admin.PingContext(ctx))
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
	u, err := url.Parse(AdminURL())
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
	dbURL := NewDatabaseURL(t, d)
	s, err := store.Open(context.Background(), store.Options{URL: dbURL, DataDir: t.TempDir()})
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
	for _, d := range Dialects {
		t.Run(strings.ToLower(string(d)), func(t *testing.T) {
			f(t, Open(t, d))
		})
	}
}
