package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/sportello/sportello/jobs"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// Three replicas starting together on a fresh PostgreSQL database all migrate successfully:
// River's migrations run under the store's advisory lock too. Before, two of three died with
// "duplicate key value violates unique constraint pg_type_typname_nsp_index".
func TestConcurrentMigrationsOnFreshPostgres(t *testing.T) {
	for round := 0; round < 3; round++ {
		migrateTogether(t, round)
	}
}

// migrateTogether starts three replicas' migrations at once on a fresh database.
func migrateTogether(t *testing.T, round int) {
	url := storetest.NewDatabaseURL(t, store.Postgres)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const replicas = 3
	stores := make([]*store.Store, replicas)
	for i := range stores {
		s, err := store.Open(ctx, store.Options{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = s.Close() }() // at the end of the round: the server's connections are shared
		stores[i] = s
	}
	start := make(chan struct{})
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = jobs.Migrate(ctx, s)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("round %d, replica %d: %v", round, i, err)
		}
	}
	for i, s := range stores {
		if ok, err := s.Migrated(ctx); err != nil || !ok {
			t.Errorf("round %d, replica %d: migrated = %v, %v", round, i, ok, err)
		}
	}
	var n int
	if err := stores[0].QueryRow(ctx, "SELECT COUNT(*) FROM river_migration").Scan(&n); err != nil || n == 0 {
		t.Errorf("round %d: River's migrations not recorded: %d, %v", round, n, err)
	}
}

// River refuses a queue that polls more often than it may fetch: a long cooldown must raise
// every queue's poll with it, the background queues' included.
func TestClientWithALongCooldown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		if err := jobs.Migrate(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		c, closeFn, err := jobs.New(context.Background(), s, river.NewWorkers(), jobs.Options{FetchCooldown: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer closeFn()
		if c == nil {
			t.Fatal("no client")
		}
	})
}
