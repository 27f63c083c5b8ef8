package storetest

import (
	"context"
	"testing"

	"github.com/sportello/sportello/store"
)

// Shared is one new, migrated database that a test opens several stores on, as replicas
// behind a load balancer (or a process restarted) do: on SQLite, stores on one data dir.
type Shared struct {
	url, dir string
}

// NewShared makes the database of dialect d, dropped when the test ends.
func NewShared(t testing.TB, d store.Dialect) *Shared {
	t.Helper()
	sh := &Shared{url: NewDatabaseURL(t, d), dir: t.TempDir()}
	s := sh.Open(t)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sh
}

// Open opens a new store on the database, closed when the test ends.
func (sh *Shared) Open(t testing.TB) *store.Store {
	t.Helper()
	s := sh.OpenUnclosed(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// OpenUnclosed opens a new store on the database that the test closes itself (a process that
// stops).
func (sh *Shared) OpenUnclosed(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{URL: sh.url, DataDir: sh.dir})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
