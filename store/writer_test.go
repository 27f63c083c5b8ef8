package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// oneLoop opens a store whose writer forms one batch at a time (database.writers can run
// several side by side): the tests of how a batch is formed hold that loop and queue the next
// batch's writes behind it.
var oneLoop = store.Options{Writers: 1}

// holdWriter queues a write that blocks the writer until the returned function is called, and
// waits until that write is running (so what is queued next forms the next batch).
func holdWriter(t *testing.T, s *store.Store) (release func()) {
	t.Helper()
	running, gate := make(chan struct{}), make(chan struct{})
	var started sync.Once // a write runs again when a later one of its batch fails
	done := make(chan error, 1)
	go func() {
		done <- s.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			started.Do(func() { close(running) })
			<-gate
			return nil
		})
	}()
	select {
	case <-running:
	case <-time.After(10 * time.Second):
		t.Fatal("the holding write did not start")
	}
	return func() {
		close(gate)
		if err := <-done; err != nil {
			t.Errorf("holding write: %v", err)
		}
	}
}

// waitQueued waits until n writes are queued behind the held one.
func waitQueued(t *testing.T, s *store.Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for store.QueuedWrites(s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", store.QueuedWrites(s), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func insertOutbox(id string) func(context.Context, *store.Tx) error {
	return func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO outbox (id, channel, to_addr, from_addr, body, created_at) VALUES (?, 'sms', '+39', '+39', 'x', 1)", id)
		return err
	}
}

// runOrder records the order in which writes ran.
type runOrder struct {
	mu    sync.Mutex
	order []string
}

// record is a write that inserts an outbox row named name, and notes that it ran.
func (o *runOrder) record(name string) func(context.Context, *store.Tx) error {
	return func(ctx context.Context, tx *store.Tx) error {
		o.mu.Lock()
		o.order = append(o.order, name)
		o.mu.Unlock()
		return insertOutbox(name)(ctx, tx)
	}
}

func (o *runOrder) names() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.order)
}

// wantAllWritten waits for the writers in wg, which send their outcome to errs, and checks
// that each succeeded and the outbox holds n rows.
func wantAllWritten(t *testing.T, s *store.Store, wg *sync.WaitGroup, errs chan error, n int) {
	t.Helper()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := outboxCount(t, s); got != n {
		t.Fatalf("%d rows, want %d", got, n)
	}
}

func outboxCount(t *testing.T, s *store.Store) int {
	t.Helper()
	var n int
	if err := s.QueryRow(context.Background(), "SELECT COUNT(*) FROM outbox").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A batch with failing writes (a duplicate key, an error after a partial change) commits the
// others in one transaction: failures are isolated without a commit per write.
func TestFailingWritesCostOneCommit(t *testing.T) {
	storetest.EachWith(t, oneLoop, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.Write(ctx, insertOutbox("OBdup")); err != nil {
			t.Fatal(err)
		}
		release := holdWriter(t, s)
		before := store.Commits(s)
		const n = 40
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			fn := insertOutbox(fmt.Sprintf("OB%d", i))
			switch i % 10 {
			case 3:
				fn = insertOutbox("OBdup")
			case 7:
				fn = func(ctx context.Context, tx *store.Tx) error {
					if err := insertOutbox(fmt.Sprintf("OBpartial%d", i))(ctx, tx); err != nil {
						return err
					}
					return errors.New("refused after a partial change")
				}
			}
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = s.Write(ctx, fn) }()
			waitQueued(t, s, i+1) // one at a time, so the batch's order is known
		}
		release()
		wg.Wait()
		for i, err := range errs {
			switch i % 10 {
			case 3:
				if !store.IsUniqueViolation(err) {
					t.Errorf("write %d: %v, want a unique violation", i, err)
				}
			case 7:
				if err == nil || store.IsUniqueViolation(err) {
					t.Errorf("write %d: %v, want its own error", i, err)
				}
			default:
				if err != nil {
					t.Errorf("write %d: %v", i, err)
				}
			}
		}
		if got, want := outboxCount(t, s), 1+n-n/5; got != want {
			t.Errorf("%d rows, want %d (partial changes of failed writes undone, the rest kept)", got, want)
		}
		// The holding write's batch, then the 40 in one.
		if c := store.Commits(s) - before; c > 2 {
			t.Errorf("%d commits for a batch with %d failing writes, want 2", c, n/5)
		}
	})
}

// A caller that gives up after its write was queued does not undo it: the write commits and
// the caller is told so; and the others of its batch are not disturbed.
func TestQueuedWriteOutlivesItsCaller(t *testing.T) {
	storetest.EachWith(t, oneLoop, func(t *testing.T, s *store.Store) {
		release := holdWriter(t, s)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var cancelledErr, otherErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			cancelledErr = s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				if err := insertOutbox("OBcancelled")(ctx, tx); err != nil {
					return err
				}
				// The statement after the caller gave up must still run.
				return insertOutbox("OBcancelled2")(ctx, tx)
			})
		}()
		waitQueued(t, s, 1)
		go func() { defer wg.Done(); otherErr = s.Write(context.Background(), insertOutbox("OBother")) }()
		waitQueued(t, s, 2)
		cancel()
		release()
		wg.Wait()
		if cancelledErr != nil || otherErr != nil {
			t.Errorf("cancelled caller: %v; other: %v; want both committed", cancelledErr, otherErr)
		}
		if n := outboxCount(t, s); n != 3 {
			t.Errorf("%d rows, want 3", n)
		}
	})
}

// On PostgreSQL a write waiting for the assignment lock (another replica holds it) waits in a
// transaction of its own: the other writes of this replica go on. In a shared batch the lock
// is refused, so no caller can put a lock-taking write back into one.
func TestLockTakingWritesStayOutOfBatches(t *testing.T) {
	s, url := storetest.OpenURL(t, store.Postgres)
	ctx := context.Background()
	if err := s.Write(ctx, s.LockAssignments); !errors.Is(err, store.ErrLockInSharedBatch) {
		t.Fatalf("the assignment lock in a shared batch: %v, want ErrLockInSharedBatch", err)
	}
	other, err := store.Open(ctx, store.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Close() }()
	// The other replica takes the lock and holds it until released.
	holding, release := make(chan struct{}), make(chan struct{})
	otherDone := make(chan error, 1)
	go func() {
		otherDone <- other.WriteAlone(ctx, func(ctx context.Context, tx *store.Tx) error {
			if err := other.LockAssignments(ctx, tx); err != nil {
				return err
			}
			close(holding)
			<-release
			return nil
		})
	}()
	select {
	case <-holding:
	case err := <-otherDone:
		t.Fatal(err)
	}
	lockedDone := make(chan error, 1)
	go func() {
		lockedDone <- s.WriteAlone(ctx, func(ctx context.Context, tx *store.Tx) error {
			if err := s.LockAssignments(ctx, tx); err != nil {
				return err
			}
			return insertOutbox("OBlocked")(ctx, tx)
		})
	}()
	start := time.Now()
	for i := 0; i < 20; i++ {
		if err := s.Write(ctx, insertOutbox(fmt.Sprintf("OB%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("20 ordinary writes took %v while a lock-taking write waited", d)
	}
	select {
	case err := <-lockedDone:
		t.Fatalf("the lock-taking write finished while another replica held the lock: %v", err)
	default:
	}
	close(release)
	if err := <-otherDone; err != nil {
		t.Fatal(err)
	}
	if err := <-lockedDone; err != nil {
		t.Fatal(err)
	}
	if n := outboxCount(t, s); n != 21 {
		t.Errorf("%d rows, want 21", n)
	}
}

// Bulk writes (an alert's fan-out) yield to the others: a write queued behind fifty bulk ones
// commits in the next batch, with at most a few of them, and bulk writes still all commit.
func TestBulkWritesYieldToOthers(t *testing.T) {
	storetest.EachWith(t, oneLoop, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		release := holdWriter(t, s)
		const n = 50
		var ran runOrder
		record := ran.record
		var wg sync.WaitGroup
		errs := make(chan error, n+1)
		for i := range n {
			wg.Go(func() { errs <- s.Write(store.Bulk(ctx), record(fmt.Sprintf("OBbulk%d", i))) })
		}
		waitQueued(t, s, n)
		wg.Go(func() { errs <- s.Write(ctx, record("OBinbound")) })
		waitQueued(t, s, n+1)
		release()
		wantAllWritten(t, s, &wg, errs, n+1)
		// The inbound write is in the batch after the held one: before all but bulkShare+1
		// (the batch's first write may be a bulk one) of the bulk writes.
		pos := slices.Index(ran.names(), "OBinbound")
		if pos < 0 || pos > 3 {
			order := ran.names()
			t.Fatalf("the inbound write ran %dth of %d, after %d bulk writes: %v", pos+1, len(order), pos, order[:min(len(order), 8)])
		}
	})
}

// Bulk writes are never starved by a steady stream of other writes.
func TestBulkWritesProgressUnderLoad(t *testing.T) {
	storetest.EachWith(t, oneLoop, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var wg sync.WaitGroup
		defer wg.Wait()
		defer cancel()
		for w := range 8 {
			wg.Go(func() {
				for i := 0; ctx.Err() == nil; i++ {
					if err := s.Write(context.Background(), insertOutbox(fmt.Sprintf("OBin%d-%d", w, i))); err != nil {
						t.Errorf("inbound write: %v", err)
						return
					}
				}
			})
		}
		deadline := time.Now().Add(30 * time.Second)
		for i := range 20 {
			if err := s.Write(store.Bulk(context.Background()), insertOutbox(fmt.Sprintf("OBbulk%d", i))); err != nil {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d bulk writes in 30 s beside a stream of others", i+1)
			}
		}
	})
}

// Two replicas' writes that take the same rows in opposite orders deadlock on PostgreSQL,
// which aborts one of them: the victim's batch (or lone transaction, WriteAlone) runs again,
// and both writes succeed (before, the victim's caller got "deadlock detected", a webhook's
// 500).
func TestDeadlockedWriteRunsAgain(t *testing.T) {
	s, url := storetest.OpenURL(t, store.Postgres)
	ctx := context.Background()
	other, err := store.Open(ctx, store.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Close() }()
	for _, alone := range []bool{false, true} {
		t.Run(map[bool]string{false: "batch", true: "alone"}[alone], func(t *testing.T) {
			a, b := fmt.Sprintf("dlA%v", alone), fmt.Sprintf("dlB%v", alone)
			for _, id := range []string{a, b} {
				if err := s.Write(ctx, insertOutbox(id)); err != nil {
					t.Fatal(err)
				}
			}
			write := func(st *store.Store, fn func(context.Context, *store.Tx) error) error {
				if alone {
					return st.WriteAlone(ctx, fn)
				}
				return st.Write(ctx, fn)
			}
			// Each write updates its first row, waits until the other holds its own first
			// row, then updates the other's: a cycle. Only a first run waits.
			aHolds, bHolds := make(chan struct{}), make(chan struct{})
			var aRuns, bRuns atomic.Int32
			crossing := func(first, second string, holds, other chan struct{}, runs *atomic.Int32) func(context.Context, *store.Tx) error {
				return func(ctx context.Context, tx *store.Tx) error {
					if _, err := tx.Exec(ctx, "UPDATE outbox SET created_at = created_at + 1 WHERE id = ?", first); err != nil {
						return err
					}
					if runs.Add(1) == 1 {
						close(holds)
						<-other
					}
					_, err := tx.Exec(ctx, "UPDATE outbox SET created_at = created_at + 1 WHERE id = ?", second)
					return err
				}
			}
			errs := make(chan error, 2)
			go func() { errs <- write(s, crossing(a, b, aHolds, bHolds, &aRuns)) }()
			go func() { errs <- write(other, crossing(b, a, bHolds, aHolds, &bRuns)) }()
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatalf("a write of a deadlocked pair failed: %v", err)
				}
			}
			if aRuns.Load()+bRuns.Load() < 3 {
				t.Fatalf("runs %d and %d: nothing ran again, so no deadlock was tested", aRuns.Load(), bRuns.Load())
			}
			var sum int
			if err := s.QueryRow(ctx, "SELECT SUM(created_at) FROM outbox WHERE id IN (?, ?)", a, b).Scan(&sum); err != nil {
				t.Fatal(err)
			}
			if sum != 2+4 { // both rows started at 1
				t.Fatalf("the rows were updated %d times, want 4 (each write's two updates, once)", sum-2)
			}
		})
	}
}

// MainWritesWithin tells bulk work that people's writes are arriving: bulk writes do not count.
func TestMainWritesWithin(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	if s.MainWritesWithin(time.Hour) {
		t.Fatal("no write yet, but main writes are reported")
	}
	if err := s.Write(store.Bulk(ctx), insertOutbox("OBbulk")); err != nil {
		t.Fatal(err)
	}
	if s.MainWritesWithin(time.Hour) {
		t.Fatal("a bulk write counted as a main write")
	}
	if err := s.Write(ctx, insertOutbox("OBmain")); err != nil {
		t.Fatal(err)
	}
	if !s.MainWritesWithin(time.Hour) {
		t.Fatal("a main write is not reported")
	}
	if s.MainWritesWithin(0) {
		t.Fatal("a main write is reported within no time at all")
	}
}

// A write of the main lane that arrives while a batch of bulk writes runs does not wait for
// the rest of them: the batch stops before its next bulk write and commits, the main write
// goes next, and the bulk writes left over follow, each exactly once.
func TestMainWriteCutsARunningBulkBatchShort(t *testing.T) {
	storetest.EachWith(t, oneLoop, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		release := holdWriter(t, s)
		const n = 12
		var ran runOrder
		record := ran.record
		// The first bulk write of the next batch waits until the main write is queued.
		firstRunning, mainQueued := make(chan struct{}), make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, n+1)
		wg.Go(func() {
			errs <- s.Write(store.Bulk(ctx), func(ctx context.Context, tx *store.Tx) error {
				close(firstRunning)
				<-mainQueued
				return record("OBbulk0")(ctx, tx)
			})
		})
		waitQueued(t, s, 1)
		for i := 1; i < n; i++ {
			wg.Go(func() { errs <- s.Write(store.Bulk(ctx), record(fmt.Sprintf("OBbulk%d", i))) })
		}
		waitQueued(t, s, n)
		release()
		select {
		case <-firstRunning:
		case <-time.After(10 * time.Second):
			t.Fatal("the bulk batch did not start")
		}
		wg.Go(func() { errs <- s.Write(ctx, record("OBinbound")) })
		waitQueued(t, s, 1)
		close(mainQueued)
		wantAllWritten(t, s, &wg, errs, n+1)
		if pos := slices.Index(ran.names(), "OBinbound"); pos != 1 {
			t.Fatalf("the inbound write ran %dth: %v", pos+1, ran.names())
		}
	})
}

// Writes that arrive while a batch runs join it before its commit: they share its sync
// instead of waiting for it and then for one of their own. One of them failing is undone alone.
func TestLateWritesJoinTheRunningBatch(t *testing.T) {
	storetest.EachWith(t, oneLoop, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.Write(ctx, insertOutbox("OBdup")); err != nil {
			t.Fatal(err)
		}
		before := store.Commits(s)
		release := holdWriter(t, s) // running: what is queued now arrives late for its batch
		const n = 6
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			fn := insertOutbox(fmt.Sprintf("OBlate%d", i))
			if i == 3 {
				fn = insertOutbox("OBdup")
			}
			wg.Go(func() { errs[i] = s.Write(ctx, fn) })
			waitQueued(t, s, i+1)
		}
		release()
		wg.Wait()
		for i, err := range errs {
			if i == 3 {
				if !store.IsUniqueViolation(err) {
					t.Errorf("write %d: %v, want a unique violation", i, err)
				}
			} else if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}
		if got, want := outboxCount(t, s), 1+n-1; got != want {
			t.Errorf("%d rows, want %d", got, want)
		}
		if c := store.Commits(s) - before; c != 1 {
			t.Errorf("%d commits, want 1: the late writes share the running batch's", c)
		}
	})
}

// On PostgreSQL a batch waits for the server's answer to each of its statements in turn; a
// second batch runs beside it meanwhile, so one slow batch (a lock wait, a long write) does not
// hold every other writer of the replica.
func TestPostgresBatchesRunSideBySide(t *testing.T) {
	s := storetest.OpenWith(t, store.Postgres, store.Options{Writers: 2})
	release := holdWriter(t, s)
	defer release()
	done := make(chan error, 1)
	go func() { done <- s.Write(context.Background(), insertOutbox("OBbeside")) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("a write while another batch is held: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a write waited for the held batch")
	}
	if n := outboxCount(t, s); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
}
