package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned for writes submitted after Close.
var ErrClosed = errors.New("store closed")

// ErrLockInSharedBatch is returned when a write in a shared batch takes a lock other
// replicas wait for: such writes go through WriteAlone.
var ErrLockInSharedBatch = errors.New("store: a write that takes a cross-replica lock must use WriteAlone, not Write")

// batchTimeout bounds one group commit on PostgreSQL. A queued write no longer follows its
// caller's context (see do), so this is what stops a stuck database from holding every writer
// forever.
const batchTimeout = 30 * time.Second

type writeReq struct {
	ctx  context.Context // the caller's values, without its cancellation
	fn   func(context.Context, *Tx) error
	done chan error
	// answered is set once done got the write's own failure (under a savepoint): the
	// batch's next run leaves it out.
	answered bool
}

// bulkKey marks a context whose writes are bulk work (see Bulk).
type bulkKey struct{}

// Bulk marks ctx's writes as bulk work (an alert's fan-out bookkeeping, its delivery callbacks):
// they wait behind the writes of people and webhooks (a citizen's SMS) in the group writer, so
// a 100,000-recipient fan-out cannot slow inbound traffic. Bulk writes are never starved: a
// batch always carries some, and all it can when nothing else waits. Reads are unaffected.
func Bulk(ctx context.Context) context.Context { return context.WithValue(ctx, bulkKey{}, true) }

func isBulk(ctx context.Context) bool { b, _ := ctx.Value(bulkKey{}).(bool); return b }

// maxConflictRetries bounds how often a batch PostgreSQL aborted as a deadlock's victim runs
// again before its failing write gets the error; conflictBackoff grows the pause each time.
const (
	maxConflictRetries = 3
	conflictBackoff    = 5 * time.Millisecond
)

// bulkShare is how many bulk writes a batch carries while other writes are waiting: enough to
// keep a fan-out moving, few enough that an ingest sharing their batch waits for a few
// milliseconds of them at most (a fan-out's chunk is about a hundred rows).
const bulkShare = 2

// bulkAlone is how many bulk writes a batch carries when no other write is waiting: a batch of
// 256 delivery callbacks and chunk results ran for tens of milliseconds during a fan-out, and
// a webhook arriving just after it started waited for all of it (BENCHMARKS.md, "Priority
// lanes, fourth pass"). Sixteen small writes still share one commit.
const bulkAlone = 16

// groupWriter commits many writers' work in one transaction: with synchronous=FULL each commit
// costs one sync of the log, so sharing it is what makes durable writes fast.
type groupWriter struct {
	s       *Store
	max     int
	reqs    chan *writeReq // writes of people and webhooks: first in every batch
	bulk    chan *writeReq // bulk writes (Bulk): what room is left
	mu      sync.RWMutex
	closed  bool
	stopped chan struct{}
	// commits counts committed transactions (batches and single writes), for tests.
	commits atomic.Int64
	// pending counts writes of the main lane queued or running; idle is closed when it
	// falls back to zero (see WaitNoPendingWrites).
	pendingMu sync.Mutex
	pending   int
	idle      chan struct{}
	// lastMain is when the last write of the main lane was queued (Unix nanoseconds).
	lastMain atomic.Int64
	// mainLatency is how long the main lane's recent writes took, from queued to answered.
	mainLatency latencyWindow
}

// batchLoop forms and commits batches, one at a time. SQLite has one (one writer
// connection); PostgreSQL can run several side by side (Options.Writers), as replicas do.
type batchLoop struct {
	*groupWriter
	// early is a main-lane write that arrived while a batch ran but locks a citizen before
	// the batch's last (see joinLate): it opens this loop's next batch.
	early *writeReq
}

func (w *groupWriter) addPending(d int) {
	w.pendingMu.Lock()
	defer w.pendingMu.Unlock()
	w.pending += d
	switch {
	case w.pending == d && d > 0:
		w.idle = make(chan struct{})
	case w.pending == 0 && w.idle != nil:
		close(w.idle)
		w.idle = nil
	}
}

// idleSignal is nil when no main-lane write is pending, else a channel closed when none is.
func (w *groupWriter) idleSignal() chan struct{} {
	w.pendingMu.Lock()
	defer w.pendingMu.Unlock()
	return w.idle
}

// newGroupWriter starts loops batch loops (at least one) taking writes from the same lanes;
// with maxBatch 1 there is none, and every write runs alone (direct).
func newGroupWriter(s *Store, maxBatch, loops int) *groupWriter {
	w := &groupWriter{s: s, max: maxBatch, reqs: make(chan *writeReq, 4*maxBatch), bulk: make(chan *writeReq, 4*maxBatch), stopped: make(chan struct{})}
	if maxBatch <= 1 {
		close(w.stopped)
		return w
	}
	var running sync.WaitGroup
	for range max(loops, 1) {
		running.Go((&batchLoop{groupWriter: w}).loop)
	}
	go func() {
		running.Wait()
		close(w.stopped)
	}()
	return w
}

// do queues fn for the next batch and waits until it is committed or has failed. The caller's
// ctx can stop the wait for a place in the queue; once queued, the write runs to its end
// without ctx's cancellation (only its values), and do waits for that end, so a cancelled
// request can neither abort the transaction it shares with others nor be told "failed" about a
// write that then commits: "acknowledged" and "durable" stay the same thing.
func (w *groupWriter) do(ctx context.Context, fn func(context.Context, *Tx) error) error {
	if w.max <= 1 {
		return w.direct(ctx, fn)
	}
	r := &writeReq{ctx: context.WithoutCancel(ctx), fn: fn, done: make(chan error, 1)}
	lane := w.reqs
	if isBulk(ctx) {
		lane = w.bulk
		w.mainLatency.bulkQueued(time.Now())
	} else {
		queued := time.Now()
		w.lastMain.Store(queued.UnixNano())
		w.addPending(1)
		defer func() {
			w.addPending(-1)
			now := time.Now()
			w.mainLatency.observe(now, now.Sub(queued))
		}()
	}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case lane <- r:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	return <-r.done
}

// direct runs fn in a transaction of its own, under the caller's ctx: it shares nothing, so
// the caller's cancellation concerns only itself.
func (w *groupWriter) direct(ctx context.Context, fn func(context.Context, *Tx) error) error {
	w.mu.RLock()
	closed := w.closed
	w.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	for retries := 0; ; retries++ {
		err := w.directOnce(ctx, fn)
		if !isTransientConflict(err) || retries == maxConflictRetries {
			return err
		}
		// A deadlock's victim (see commit): nothing of it was kept; run it again.
		select {
		case <-time.After(time.Duration(retries+1) * conflictBackoff):
		case <-ctx.Done():
			return err
		}
	}
}

func (w *groupWriter) directOnce(ctx context.Context, fn func(context.Context, *Tx) error) error {
	sqlTx, err := w.s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	tx := &Tx{s: w.s, tx: sqlTx}
	if err := fn(ctx, tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return err
	}
	w.commits.Add(1)
	return nil
}

func (w *groupWriter) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		if w.max > 1 {
			close(w.reqs)
			close(w.bulk)
		}
	}
	w.mu.Unlock()
	<-w.stopped
}

// loop forms batches: every waiting write of the main lane first (up to max), then bulk
// writes, bulkShare of them while main writes are waiting, up to bulkAlone when none are.
// Bulk writes a batch left unrun for a main write that arrived meanwhile (see runBatch) come
// first among the bulk writes of the batches that follow.
func (w *batchLoop) loop() {
	batch := make([]*writeReq, 0, w.max)
	var carried []*writeReq
	reqs, bulk := w.reqs, w.bulk
	for reqs != nil || bulk != nil || len(carried) > 0 || w.early != nil {
		batch = batch[:0]
		if w.early != nil {
			batch = append(batch, w.early)
			w.early = nil
		} else if len(carried) == 0 {
			// Wait for the first write of either lane.
			select {
			case r, ok := <-reqs:
				if !ok {
					reqs = nil
					continue
				}
				batch = append(batch, r)
			case r, ok := <-bulk:
				if !ok {
					bulk = nil
					continue
				}
				batch = append(batch, r)
			}
		}
		var closed bool
		if batch, closed = fill(batch, reqs, w.max); closed {
			reqs = nil
		}
		if w.s.dialect == Postgres {
			sortByLockOrder(batch)
		}
		room := min(w.max, bulkAlone) - len(batch)
		if len(batch) > 1 || (len(batch) == 1 && !isBulk(batch[0].ctx)) {
			room = min(w.max-len(batch), bulkShare)
		}
		take := min(room, len(carried))
		batch = append(batch, carried[:take]...)
		carried = carried[take:]
		if batch, closed = fill(batch, bulk, len(batch)+room-take); closed {
			bulk = nil
		}
		if left := w.commit(batch); len(left) > 0 {
			// left shares batch's array, which the next batch reuses.
			carried = append(slices.Clone(left), carried...)
		}
		w.s.stmts.prepareWanted(context.Background(), w.s.db)
		w.s.finishCheckpoint()
	}
}

// fill appends writes already waiting in lane until batch holds n; closed reports the lane closed.
func fill(batch []*writeReq, lane chan *writeReq, n int) ([]*writeReq, bool) {
	if lane == nil {
		return batch, false
	}
	for len(batch) < n {
		select {
		case r, ok := <-lane:
			if !ok {
				return batch, true
			}
			batch = append(batch, r)
		default:
			return batch, false
		}
	}
	return batch, false
}

// commit runs a batch in one transaction and one sync, and answers every writer it ran; it
// returns the bulk writes it left for a later batch (see runBatch).
//
// The batch first runs without savepoints: a savepoint per write costs a statement journal
// write each on SQLite (a fifth of an ingest's CPU when measured), and almost every write
// succeeds. When one fails, the transaction is rolled back and that writer gets its error;
// the batch runs again without it in a new transaction: the writes before it plainly (they
// just succeeded), the writes after it, which have not run yet, each inside a savepoint, so
// any further failure is undone alone. A batch thus costs one commit whatever fails in it
// (before, a failure reran every write in a transaction and a sync of its own).
func (w *batchLoop) commit(batch []*writeReq) (left []*writeReq) {
	ctx := context.Background()
	if w.s.dialect != SQLite { // see writeContext
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, batchTimeout)
		defer cancel()
	}
	plainUntil := len(batch)
	retries := 0
	for len(batch) > 0 {
		firstRun := plainUntil == len(batch)
		var failed, ran int
		var err error
		batch, failed, ran, err = w.runBatch(ctx, batch, plainUntil)
		if firstRun {
			plainUntil = len(batch) // writes that joined late ran plainly too
		}
		if failed < 0 {
			w.answer(batch[:ran], err)
			return batch[ran:]
		}
		if isTransientConflict(err) && retries < maxConflictRetries {
			// PostgreSQL chose this batch as a deadlock's victim (or a serialization
			// failure): nothing of it was kept, and the same writes run again shortly. Two
			// replicas' batches each carry several people's writes in their own order, so
			// such a cycle is nobody's mistake; answering the write's caller with an error
			// (a webhook's 500) would only make the provider send it again later.
			retries++
			time.Sleep(time.Duration(retries) * conflictBackoff)
			batch, plainUntil = dropAnswered(batch, plainUntil)
			continue
		}
		batch[failed].done <- err
		batch[failed].answered = true
		batch, plainUntil = dropAnswered(batch, failed)
	}
	return nil
}

// dropAnswered removes the writes already answered from batch, and moves plainUntil (an
// index into batch) with the writes that remain.
func dropAnswered(batch []*writeReq, plainUntil int) ([]*writeReq, int) {
	kept, keptPlain := batch[:0], 0
	for i, r := range batch {
		if r.answered {
			continue
		}
		if i < plainUntil {
			keptPlain++
		}
		kept = append(kept, r)
	}
	return kept, keptPlain
}

// answer gives every writer still waiting the batch's outcome (a writer already answered, by
// its own failure under a savepoint, has a full channel and is skipped).
func (w *groupWriter) answer(batch []*writeReq, err error) {
	for _, r := range batch {
		select {
		case r.done <- err:
		default:
		}
	}
}

// runBatch executes writes in one transaction and commits it: writes before index plainUntil
// as they are, the others each inside a savepoint. A plain write that fails stops the batch:
// the transaction is rolled back and failed is its index. A write under a savepoint that fails
// is rolled back alone and answered at once, and the others go on. failed is -1 when the batch
// reached its commit or could not begin; err is then that error, for the first ran writers
// not answered yet.
//
// ran is less than len(batch) when a main-lane write arrived while the batch was running its
// plain bulk writes: after its first bulk write the batch then stops before the next one,
// leaving the rest for later. A webhook thus waits for one bulk write at most, not for a dozen (a
// fan-out's chunk results, or its audience written 500 at a time, take milliseconds each).
//
// On a first run (every write plain), main-lane writes that arrived while the batch ran join it
// before its commit (see joinLate), and out is batch with them inserted after the ran writes.
func (w *batchLoop) runBatch(ctx context.Context, batch []*writeReq, plainUntil int) (out []*writeReq, failed, ran int, err error) {
	sqlTx, err := w.s.db.BeginTx(ctx, nil)
	if err != nil {
		return batch, -1, len(batch), fmt.Errorf("store: begin: %w", err)
	}
	tx := &Tx{s: w.s, tx: sqlTx, shared: true}
	ran = len(batch)
	bulkRan := 0
	lastLock := ""
	for i, r := range batch {
		if isBulk(r.ctx) && i < plainUntil {
			// Every batch runs at least one bulk write, so that a steady stream of
			// webhooks never starves the bulk lane.
			if bulkRan > 0 && len(w.reqs) > 0 {
				ran = i
				break
			}
			bulkRan++
		}
		lastLock = max(lastLock, r.lockOrder())
		wctx, wcancel := w.writeContext(ctx, r)
		if i < plainUntil {
			err := r.fn(wctx, tx)
			wcancel()
			if err != nil {
				_ = sqlTx.Rollback()
				return batch, i, 0, err
			}
			continue
		}
		err := w.underSavepoint(wctx, tx, r.fn)
		wcancel()
		if err != nil {
			var sp savepointError
			if errors.As(err, &sp) {
				// The transaction itself is broken: no one in it can commit.
				_ = sqlTx.Rollback()
				return batch, -1, len(batch), sp.err
			}
			if isTransientConflict(err) {
				// A deadlock's cycle goes through the locks the batch's other writes hold:
				// undoing this write alone would meet it again. The whole batch runs again.
				_ = sqlTx.Rollback()
				return batch, i, 0, err
			}
			r.done <- err
			r.answered = true
		}
	}
	if plainUntil == len(batch) {
		joined, err := w.joinLate(ctx, tx, ran, lastLock)
		if len(joined) > 0 {
			batch = slices.Concat(batch[:ran], joined, batch[ran:])
			ran += len(joined)
		}
		if err != nil {
			_ = sqlTx.Rollback()
			return batch, ran - 1, 0, err
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return batch, -1, ran, fmt.Errorf("store: commit: %w", err)
	}
	w.commits.Add(1)
	return batch, -1, ran, nil
}

// joinLate runs, in the batch's transaction, the main-lane writes that arrived while it ran, up
// to max writes in all: they share its commit instead of waiting for it and then for a commit
// of their own. A webhook arriving while a batch carries a bulk write thus waits for one sync,
// not two; under a steady stream of webhooks batches grow and commits (a sync and the shared
// index pages each) are fewer. It stops at the first failure, which is the last write joined.
// On PostgreSQL it also stops at a write that locks a citizen before lastLock, the last the
// batch locked (see sortByLockOrder): that write opens the next batch instead.
func (w *batchLoop) joinLate(ctx context.Context, tx *Tx, ran int, lastLock string) (joined []*writeReq, err error) {
	for ran+len(joined) < w.max && w.early == nil {
		var r *writeReq
		select {
		case r = <-w.reqs: // nil once the lane is closed
		default:
		}
		if r == nil {
			return joined, nil
		}
		if w.s.dialect == Postgres && !joinsInLockOrder(r, lastLock) {
			w.early = r
			return joined, nil
		}
		lastLock = max(lastLock, r.lockOrder())
		joined = append(joined, r)
		wctx, wcancel := w.writeContext(ctx, r)
		err := r.fn(wctx, tx)
		wcancel()
		if err != nil {
			return joined, err
		}
	}
	return joined, nil
}

// savepointError is a failure of the savepoint statements themselves, as opposed to the write's.
type savepointError struct{ err error }

func (e savepointError) Error() string { return e.err.Error() }

// underSavepoint runs fn so that its failure undoes only its own changes.
func (w *groupWriter) underSavepoint(ctx context.Context, tx *Tx, fn func(context.Context, *Tx) error) error {
	if _, err := tx.tx.ExecContext(ctx, "SAVEPOINT write"); err != nil {
		return savepointError{fmt.Errorf("store: savepoint: %w", err)}
	}
	if err := fn(ctx, tx); err != nil {
		if _, rerr := tx.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT write"); rerr != nil {
			return savepointError{fmt.Errorf("store: rollback to savepoint: %w (after %v)", rerr, err)}
		}
		if _, rerr := tx.tx.ExecContext(ctx, "RELEASE SAVEPOINT write"); rerr != nil {
			return savepointError{fmt.Errorf("store: release savepoint: %w", rerr)}
		}
		return err
	}
	if _, err := tx.tx.ExecContext(ctx, "RELEASE SAVEPOINT write"); err != nil {
		return savepointError{fmt.Errorf("store: release savepoint: %w", err)}
	}
	return nil
}

// writeContext is what a queued write runs under: its caller's values, and on PostgreSQL the
// batch's deadline (a network peer can hang). On SQLite neither the batch nor its writes get a
// deadline: its waits are bounded by busy_timeout, and for a context that can end
// modernc.org/sqlite installs a progress handler and starts a goroutine for every statement
// (and database/sql one for every transaction).
func (w *groupWriter) writeContext(batch context.Context, r *writeReq) (context.Context, context.CancelFunc) {
	d, ok := batch.Deadline()
	if !ok {
		return r.ctx, func() {}
	}
	return context.WithDeadline(r.ctx, d)
}
