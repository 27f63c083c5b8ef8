package store

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"
)

// checkpointEvery is how often the checkpointer copies the log into the database file: at
// most a fifth of a second of writes accumulates in the log.
const checkpointEvery = 200 * time.Millisecond

// checkpointer copies SQLite's write-ahead log into the database file from a connection of its
// own, so the writer never does it inside a commit. SQLite's automatic checkpoint ran in the
// commit that filled the log past 1,000 pages: that commit, and every write queued behind it
// (a citizen's SMS among them), waited for the pages to be copied and the file synced.
// PASSIVE never waits for the writer or the readers; what it cannot copy now it copies at the
// next tick.
//
// Under a steady stream of writes that alone never empties the log. SQLite starts the log
// again from its beginning only when a write transaction begins with every frame copied, and
// the writer appends new frames while a pass copies the old ones. The log then grew by 100 MB
// a second under SMS load, every frame an append to a growing file whose sync must also
// journal the file's new size. So each pass that found frames to copy sets finish, and the
// group writer, between two batches (when nothing appends), copies the frames written during
// the pass (finishCheckpoint): its next batch starts the log again.
type checkpointer struct {
	db      *sql.DB
	stop    chan struct{}
	done    chan struct{}
	onError func(error)
	// finish asks the group writer to copy what the last pass could not see.
	finish atomic.Bool
}

func startCheckpointer(db *sql.DB, onError func(error)) *checkpointer {
	c := &checkpointer{db: db, stop: make(chan struct{}), done: make(chan struct{}), onError: onError}
	go c.loop()
	return c
}

func (c *checkpointer) loop() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var busy, logFrames, copied int
		err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied)
		cancel()
		if err != nil {
			c.onError(err)
			continue
		}
		// The counts are the log's as the pass began: frames the writer appended during it
		// are in neither.
		if logFrames > 0 {
			c.finish.Store(true)
		}
	}
}

// finishCheckpoint is run by the group writer between two batches, after a pass of the
// checkpointer: on the writer's own connection, so that nothing is appended meanwhile, it
// copies the frames written during the pass (a few milliseconds of writes, and one sync of the
// database file).
func (s *Store) finishCheckpoint() {
	if s.checkpoints == nil || !s.checkpoints.finish.Swap(false) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		s.checkpoints.onError(err)
	}
}

// close stops the loop and closes its connection.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.db.Close()
}
