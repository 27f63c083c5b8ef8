// Package jobs runs Sportello's durable background work on River, on the same database as the
// store: riversqlite on SQLite, riverdatabasesql (with a pgx listener) on PostgreSQL. Both
// speak *sql.Tx, so a job can be enqueued in the same transaction as the data it acts on
// (store.Tx.SQL()) and exists exactly when that data does.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/sportello/sportello/store"
)

// Client is the River client every feature enqueues through.
type Client = river.Client[*sql.Tx]

// Queues the gateway works. Outbound messages have their own queue so a large alert fan-out
// cannot delay an operator's reply.
const (
	QueueDefault  = river.QueueDefault
	QueueOutbound = "outbound"
	QueueAlerts   = "alerts"
	QueueSlow     = "slow" // OCR and previews: CPU-heavy, few at a time
)

// Options tune the client. Defaults are River's, raised: at River's defaults both databases
// complete only about 1,000 jobs/s here (../shared/NOTES.md).
type Options struct {
	// DatabaseURL is the PostgreSQL URL, for the LISTEN connection; "" on SQLite.
	DatabaseURL   string
	MaxWorkers    int
	FetchCooldown time.Duration
	FetchPoll     time.Duration
	Logger        *slog.Logger
	// DB, on PostgreSQL, is River's own pool, so its fetching and completing stay within its
	// share of the connection budget (default: the store's pool).
	DB *sql.DB
	// InsertOnly builds a client that enqueues but works nothing (CLI commands).
	InsertOnly bool
	// Periodic jobs the client schedules (its leader inserts them).
	Periodic []*river.PeriodicJob
}

// backgroundQueuePoll is the default poll of the queues whose jobs nobody waits for.
const backgroundQueuePoll = time.Second

// pollIntervals resolves how often the queues poll for jobs: all at configured, if it is set;
// otherwise per database, and the queues nobody waits for (housekeeping, OCR) at
// backgroundQueuePoll (background 0 means the client's interval). Neither is under cooldown.
func pollIntervals(d store.Dialect, configured, cooldown time.Duration) (client, background time.Duration) {
	if configured != 0 {
		return max(configured, cooldown), 0
	}
	// Each poll of each queue is a query on SQLite's single writer connection, a tenth of the
	// CPU at 100 ms with four queues (measured): poll less often there.
	client = 100 * time.Millisecond
	if d == store.SQLite {
		client = 250 * time.Millisecond
	}
	client = max(client, cooldown)
	// An idle gateway on SQLite spent 2.5 % of a core polling its four queues, most of it
	// parsing River's fetch statement again each time; the hourly housekeeping and the fax
	// OCR, seconds long, can wait a second to start.
	return client, max(backgroundQueuePoll, client)
}

func (o *Options) setDefaults() {
	if o.MaxWorkers == 0 {
		o.MaxWorkers = 200
	}
	if o.FetchCooldown == 0 {
		o.FetchCooldown = 5 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

func driverFor(ctx context.Context, s *store.Store, dbURL string, db *sql.DB) (riverdriver.Driver[*sql.Tx], func(), error) {
	if s.Dialect() == store.SQLite {
		return riversqlite.New(s.DB()), func() {}, nil
	}
	if db == nil {
		db = s.DB()
	}
	if dbURL == "" {
		return riverdatabasesql.New(db), func() {}, nil
	}
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, nil, err
	}
	// The LISTEN connection, held for good.
	cfg.MinConns, cfg.MaxConns = 0, 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return riverdatabasesql.NewWithPgxListener(db, pool), pool.Close, nil
}

// Migrate applies the store's migrations and then River's own, under the store's migration
// lock, so replicas starting together on one PostgreSQL database take turns for both.
func Migrate(ctx context.Context, s *store.Store) error {
	return s.MigrateThen(ctx, func(ctx context.Context) error { return migrateRiver(ctx, s) })
}

func migrateRiver(ctx context.Context, s *store.Store) error {
	drv, closeFn, err := driverFor(ctx, s, "", nil)
	if err != nil {
		return err
	}
	defer closeFn()
	m, err := rivermigrate.New(drv, nil)
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: river migrations: %w", err)
	}
	return nil
}

// New builds the River client over the store's database with the given workers (nil with
// InsertOnly). Start it with Start; Stop finishes running jobs.
func New(ctx context.Context, s *store.Store, workers *river.Workers, opts Options) (*Client, func(), error) {
	opts.setDefaults()
	var backgroundPoll time.Duration
	opts.FetchPoll, backgroundPoll = pollIntervals(s.Dialect(), opts.FetchPoll, opts.FetchCooldown)
	drv, closeFn, err := driverFor(ctx, s, opts.DatabaseURL, opts.DB)
	if err != nil {
		return nil, nil, err
	}
	cfg := &river.Config{
		Logger:            opts.Logger,
		FetchCooldown:     opts.FetchCooldown,
		FetchPollInterval: opts.FetchPoll,
		JobTimeout:        5 * time.Minute,
		// Completed jobs are history we do not need: the store keeps what matters.
		CompletedJobRetentionPeriod: time.Hour,
	}
	if !opts.InsertOnly {
		cfg.Workers = workers
		cfg.PeriodicJobs = opts.Periodic
		cfg.Queues = map[string]river.QueueConfig{
			QueueDefault:  {MaxWorkers: opts.MaxWorkers / 4, FetchPollInterval: backgroundPoll},
			QueueOutbound: {MaxWorkers: opts.MaxWorkers / 2},
			QueueAlerts:   {MaxWorkers: opts.MaxWorkers / 4},
			QueueSlow:     {MaxWorkers: 1, FetchPollInterval: backgroundPoll},
		}
		for name, q := range cfg.Queues {
			if q.MaxWorkers < 1 {
				q.MaxWorkers = 1
				cfg.Queues[name] = q
			}
		}
	}
	if s.Dialect() == store.SQLite {
		// One writer connection is shared with the store; polling keeps River off it
		// between fetches.
		cfg.PollOnly = true
	}
	c, err := river.NewClient(drv, cfg)
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	return c, closeFn, nil
}
