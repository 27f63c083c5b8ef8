package store

import (
	"context"
	"database/sql"
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
type checkpointer struct {
	db   *sql.DB
	stop chan struct{}
	done chan struct{}
}

func startCheckpointer(db *sql.DB, onError func(error)) *checkpointer {
	c := &checkpointer{db: db, stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop(onError)
	return c
}

func (c *checkpointer) loop(onError func(error)) {
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
		_, err := c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		cancel()
		if err != nil {
			onError(err)
		}
	}
}

// close stops the loop and closes its connection.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.db.Close()
}
