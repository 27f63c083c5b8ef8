package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps SQLite's hot write statements prepared on the single writer connection:
// parsing SQL was an eighth of an ingest's CPU. (pgx caches prepared statements per connection
// itself.) Statements are prepared once, at Open, because preparing on the writer handle while
// a write transaction holds its only connection would wait forever.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
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
	return c.stmts[query]
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
		st, err := db.PrepareContext(ctx, q)
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
