package gateway

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sportello/sportello/store"
)

// pools splits one replica's PostgreSQL connections (database.*) into disjoint pools, so a
// fan-out or a job backlog cannot take the connections webhooks need: the store's own pool
// (webhooks, APIs, pages, other jobs' writes) gets what River's and the fan-out's shares leave.
// On SQLite everything shares the store.
type pools struct {
	river  *sql.DB      // River's fetches and completions (its LISTEN is one more, inside its share)
	fanout *store.Store // the alert fan-out's reads and writes
}

// storeConns is the store's own pool size for this config (0: the store's default).
func storeConns(g *Gateway) int {
	if g.Config.DatabaseURL == "" {
		return 0
	}
	return g.Config.Database.RequestConns()
}

func (g *Gateway) openPools(ctx context.Context) error {
	if g.Store.Dialect() != store.Postgres {
		return nil
	}
	advice, err := g.Store.PostgresSettingsAdvice(ctx)
	if err != nil {
		return err
	}
	for _, a := range advice {
		g.Log.Warn(a)
	}
	d := g.Config.Database
	// The fan-out's chunk writes touch only their own recipients: two batches side by side
	// keep PostgreSQL busy while one waits (BENCHMARKS.md, issue 14).
	fanoutWriters := max(1, d.FanoutConns/3)
	if g.pools.fanout, err = store.Open(ctx, store.Options{URL: g.Config.DatabaseURL, MaxOpenConns: d.FanoutConns, Writers: fanoutWriters}); err != nil {
		return err
	}
	if g.pools.river, err = sql.Open("pgx", g.Config.DatabaseURL); err != nil {
		return err
	}
	g.pools.river.SetMaxOpenConns(d.RiverConns - 1)
	g.pools.river.SetMaxIdleConns(d.RiverConns - 1)
	return nil
}

// fanoutStore is the store the fan-out uses (nil: the gateway's).
func (g *Gateway) fanoutStore() *store.Store { return g.pools.fanout }

func (p *pools) close() error {
	var errs []error
	if p.fanout != nil {
		errs = append(errs, p.fanout.Close())
		p.fanout = nil
	}
	if p.river != nil {
		errs = append(errs, p.river.Close())
		p.river = nil
	}
	return errors.Join(errs...)
}
