package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps SQLite's write statements prepared on the single writer connection: parsing
// SQL was an eighth to a quarter of a webhook's CPU. (pgx caches prepared statements per
// connection itself.) Preparing on the writer handle while a write transaction holds its only
// connection would wait forever, so a statement missed inside a transaction is only noted, and
// the writer prepares the noted ones between batches.
type stmtCache struct {
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	wanted map[string]bool
}

// maxCachedStmts bounds the cache: queries built with a variable number of placeholders would
// otherwise grow it without end.
const maxCachedStmts = 512

func (c *stmtCache) get(_ context.Context, s *Store, query string) *sql.Stmt {
	if s.dialect != SQLite {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.stmts[query]
	if !ok && len(c.stmts)+len(c.wanted) < maxCachedStmts {
		if c.wanted == nil {
			c.wanted = map[string]bool{}
		}
		c.wanted[query] = true
	}
	return st
}

// prepareWanted prepares the statements noted since the last call; the writer calls it with
// no transaction open. A statement that fails to prepare is not retried.
func (c *stmtCache) prepareWanted(ctx context.Context, db *sql.DB) {
	c.mu.Lock()
	wanted := c.wanted
	c.wanted = nil
	c.mu.Unlock()
	if len(wanted) == 0 {
		return
	}
	queries := make([]string, 0, len(wanted))
	for q := range wanted {
		queries = append(queries, q)
	}
	for _, q := range queries {
		st, err := db.PrepareContext(ctx, sqliteNoPeek(q))
		c.mu.Lock()
		if err == nil && c.stmts != nil {
			c.stmts[q] = st
		} else if err == nil {
			st.Close()
		}
		if c.stmts == nil { // closed meanwhile
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
	}
}

// prepare readies queries on the writer; call it only while no transaction is open.
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB, queries []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	for _, q := range queries {
		if _, ok := c.stmts[q]; ok || len(c.stmts) >= maxCachedStmts {
			continue
		}
		st, err := db.PrepareContext(ctx, sqliteNoPeek(q))
		if err != nil {
			return err
		}
		c.stmts[q] = st
	}
	return nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
}

// readStmts keeps SQLite read statements prepared on the reader pool. Unlike the writer, the
// pool has several connections and no long transaction holds them, so a statement is prepared
// when first met; database/sql prepares it again on each connection that runs it.
type readStmts struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func (c *readStmts) get(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil
	}
	st, err := db.PrepareContext(ctx, sqliteNoPeek(query))
	if err != nil {
		return nil // the unprepared query reports the error
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = st
	return st
}

func (c *readStmts) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
}
