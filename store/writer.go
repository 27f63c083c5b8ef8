package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrClosed is returned for writes submitted after Close.
var ErrClosed = errors.New("store closed")

type writeReq struct {
	ctx  context.Context
	fn   func(context.Context, *Tx) error
	done chan error
}

// groupWriter commits many writers' work in one transaction: with synchronous=FULL each commit
// costs one sync of the log, so sharing it is what makes durable writes fast.
type groupWriter struct {
	s       *Store
	max     int
	reqs    chan *writeReq
	mu      sync.RWMutex
	closed  bool
	stopped chan struct{}
}

func newGroupWriter(s *Store, max int) *groupWriter {
	w := &groupWriter{s: s, max: max, reqs: make(chan *writeReq, 4*max), stopped: make(chan struct{})}
	if max > 1 {
		go w.loop()
	} else {
		close(w.stopped)
	}
	return w
}

func (w *groupWriter) do(ctx context.Context, fn func(context.Context, *Tx) error) error {
	if w.max <= 1 {
		return w.direct(ctx, fn)
	}
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	// Once queued the write happens; waiting for it even if ctx ends keeps "acknowledged"
	// and "durable" the same thing for the caller.
	return <-r.done
}

func (w *groupWriter) direct(ctx context.Context, fn func(context.Context, *Tx) error) error {
	w.mu.RLock()
	closed := w.closed
	w.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	sqlTx, err := w.s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	tx := &Tx{s: w.s, tx: sqlTx}
	if err := fn(ctx, tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	return sqlTx.Commit()
}

func (w *groupWriter) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		if w.max > 1 {
			close(w.reqs)
		}
	}
	w.mu.Unlock()
	<-w.stopped
}

func (w *groupWriter) loop() {
	defer close(w.stopped)
	batch := make([]*writeReq, 0, w.max)
	for r := range w.reqs {
		batch = append(batch[:0], r)
	fill:
		for len(batch) < w.max {
			select {
			case r2, ok := <-w.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r2)
			default:
				break fill
			}
		}
		w.commit(batch)
		w.s.stmts.prepareWanted(context.Background(), w.s.db)
	}
}

// commit runs a batch in one transaction and one sync. A write that fails makes the batch
// roll back; its members are then run again one transaction each, so a failure stays with its
// own writer. (Savepoints per write would cost a statement journal write each: 20% of the CPU
// of an ingest when measured.)
func (w *groupWriter) commit(batch []*writeReq) {
	if len(batch) > 1 {
		if results, ok := w.run(batch); ok {
			for i, r := range batch {
				r.done <- results[i]
			}
			return
		}
	}
	for _, r := range batch {
		results, _ := w.run([]*writeReq{r})
		r.done <- results[0]
	}
}

// run executes writes in one transaction. ok is false when a write failed and the transaction
// was rolled back (results are then only meaningful for a batch of one).
func (w *groupWriter) run(batch []*writeReq) (results []error, ok bool) {
	ctx := context.Background()
	results = make([]error, len(batch))
	sqlTx, err := w.s.db.BeginTx(ctx, nil)
	if err != nil {
		for i := range results {
			results[i] = fmt.Errorf("store: begin: %w", err)
		}
		return results, true
	}
	tx := &Tx{s: w.s, tx: sqlTx}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if err := r.fn(r.ctx, tx); err != nil {
			results[i] = err
			_ = sqlTx.Rollback()
			return results, false
		}
	}
	if err := sqlTx.Commit(); err != nil {
		for i := range results {
			results[i] = fmt.Errorf("store: commit: %w", err)
		}
	}
	return results, true
}
