// Package store keeps Sportello's data durably in embedded SQLite (WAL, synchronous=FULL, group
// commit) or PostgreSQL, behind one concrete type. Queries are written once with ? placeholders
// and rebound for PostgreSQL; times are stored as Unix microseconds so both databases agree.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"               // also registers the "sqlite" database/sql driver
)

// Dialect names the database behind a Store.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrNotFound is returned when a row does not exist (or is outside the caller's scope).
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write would break a uniqueness rule.
var ErrConflict = errors.New("conflict")

// Options configure Open.
type Options struct {
	// URL is "" for SQLite in DataDir, or a postgres:// URL.
	URL     string
	DataDir string
	// MaxBatch bounds how many writes one group commit carries (SQLite).
	MaxBatch int
	// MaxOpenConns bounds the PostgreSQL pool (default 40); SQLite ignores it.
	MaxOpenConns int
	// Writers is how many group commits run at once on PostgreSQL, each on a connection of
	// the pool (default 1). SQLite has one writer.
	Writers int
	// Now is the clock; tests set it.
	Now func() time.Time
	// UndecidedComuni: users scoped to one of these comuni also see the contacts whose comune
	// is still to be decided (config.UndecidedComuni: the comuni the shared numbers serve).
	UndecidedComuni []string
	// Logger gets what background work fails at (SQLite's checkpoints); default slog.Default().
	Logger *slog.Logger
}

// writers is Writers with its default. A PostgreSQL batch waits for the server's answer to
// each statement in turn, so batches side by side help while the server has room (SMS ingest
// alone); when it has none, they add little and wait on each other's rows (a busy day's call
// events): BENCHMARKS.md, issue 14. One is the default; database.writers sets more.
func (o Options) writers() int {
	return max(1, o.Writers)
}

func (o Options) onCheckpointError() func(error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	return func(err error) {
		log.Warn("store: copying the write-ahead log into the database file failed", "err", err)
	}
}

// Store is the database. It is safe for concurrent use.
type Store struct {
	stmts   stmtCache
	reads   readStmts
	dialect Dialect
	// db is the writer: for SQLite a single connection (SQLite has one writer; River shares it),
	// for PostgreSQL the pool.
	db *sql.DB
	// rdb serves reads: for SQLite a pool of read-only connections that WAL lets run beside the
	// writer; for PostgreSQL the same pool as db.
	rdb    *sql.DB
	writer *groupWriter
	// checkpoints copies SQLite's log into the database file (nil on PostgreSQL).
	checkpoints *checkpointer
	now         func() time.Time
	path        string
	// undecided is Options.UndecidedComuni as a set, and undecidedList in order.
	undecided     map[string]bool
	undecidedList []string
	// salt is the erasure salt, read once (ErasedKey).
	saltMu sync.Mutex
	salt   []byte
}

// Open connects to the database named by opts. It does not migrate.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBatch == 0 {
		opts.MaxBatch = 256
	}
	s := &Store{now: opts.Now, undecided: map[string]bool{}}
	for _, c := range opts.UndecidedComuni {
		if !s.undecided[c] {
			s.undecided[c] = true
			s.undecidedList = append(s.undecidedList, c)
		}
	}
	if opts.URL == "" {
		s.dialect = SQLite
		s.path = SQLiteFile(opts.DataDir)
		if err := prepareDataDir(opts.DataDir, s.path); err != nil {
			return nil, err
		}
		// fdatasync(2) rather than fsync(2) for every commit: as durable (the data and the
		// file size reach the disk), without also journaling the file's timestamps. SQLite
		// built for Linux does the same; this transpiled build keeps fsync unless asked.
		if _, err := sqlite.Fdatasync(true); err != nil && !errors.Is(err, sqlite.ErrFdatasyncUnavailable) {
			return nil, fmt.Errorf("store: fdatasync: %w", err)
		}
		common := "file:" + s.path + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=temp_store(2)"
		// secure_delete: what the writer deletes or replaces is overwritten with zeros, not left
		// in the file's free space, so an erased citizen's data leaves the file (erasure.go).
		w, err := sql.Open("sqlite", common+"&_pragma=synchronous(FULL)&_pragma=secure_delete(1)&_pragma=wal_autocheckpoint(0)&_txlock=immediate")
		if err != nil {
			return nil, err
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		r, err := sql.Open("sqlite", common+"&_pragma=query_only(1)")
		if err != nil {
			return nil, errors.Join(err, w.Close())
		}
		r.SetMaxOpenConns(8)
		r.SetMaxIdleConns(8)
		c, err := sql.Open("sqlite", common+"&_pragma=synchronous(FULL)")
		if err != nil {
			return nil, errors.Join(err, w.Close(), r.Close())
		}
		c.SetMaxOpenConns(1)
		s.db, s.rdb = w, r
		s.checkpoints = startCheckpointer(c, opts.onCheckpointError())
	} else {
		s.dialect = Postgres
		db, err := sql.Open("pgx", opts.URL)
		if err != nil {
			return nil, err
		}
		if opts.MaxOpenConns <= 0 {
			opts.MaxOpenConns = 40
		}
		db.SetMaxOpenConns(opts.MaxOpenConns)
		db.SetMaxIdleConns(opts.MaxOpenConns)
		db.SetConnMaxIdleTime(5 * time.Minute)
		s.db, s.rdb = db, db
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.db.PingContext(pctx); err != nil {
		return nil, errors.Join(fmt.Errorf("store: %s unreachable: %w", s.dialect, err), s.closeDBs())
	}
	// Group commit on both databases: measured under 32 concurrent writers, batching made
	// PostgreSQL's ingest 2.7 times faster than one transaction per write (fewer commits and
	// WAL flushes); replicas batch independently.
	batch, writers := opts.MaxBatch, 1
	if s.dialect == SQLite {
		if err := s.stmts.prepare(ctx, s.db, hotQueries); err != nil && !isMissingTable(err) {
			return nil, errors.Join(err, s.closeDBs())
		}
	} else {
		writers = opts.writers()
	}
	s.writer = newGroupWriter(s, batch, writers)
	return s, nil
}

// SQLiteFile is the embedded database's file in a data directory.
func SQLiteFile(dataDir string) string { return filepath.Join(dataDir, "sportello.db") }

// Dialect reports which database this is.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB is the writer handle, for River: its driver and our writes must share it on SQLite.
func (s *Store) DB() *sql.DB { return s.db }

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.now() }

// Close stops the writer after it finished what it was given, then closes the database.
func (s *Store) Close() error {
	if s.writer != nil {
		s.writer.close()
	}
	return s.closeDBs()
}

func (s *Store) closeDBs() error {
	s.stmts.close()
	s.reads.close()
	var err error
	if s.checkpoints != nil {
		err = s.checkpoints.close()
	}
	if e := s.db.Close(); err == nil {
		err = e
	}
	if s.rdb != s.db {
		if e := s.rdb.Close(); err == nil {
			err = e
		}
	}
	return err
}

// PoolExhausted reports whether every connection of the pool is in use (PostgreSQL: a
// request now waits for one), with the pool's numbers for the report.
func (s *Store) PoolExhausted() (bool, sql.DBStats) {
	st := s.rdb.Stats()
	return st.MaxOpenConnections > 0 && st.InUse >= st.MaxOpenConnections, st
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.PingContext(ctx) }

// NewID returns a new time-ordered id.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// q rebinds a query written with ? placeholders for the store's dialect.
func (s *Store) q(query string) string {
	if s.dialect != Postgres {
		return sqliteNoPeek(query)
	}
	return rebind(query)
}

func rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	inQuote := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c == '\'' {
			inQuote = !inQuote
		}
		if c == '?' && !inQuote {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Tx is a write transaction handed to Write callbacks. Its methods rebind ? placeholders.
type Tx struct {
	s  *Store
	tx *sql.Tx
	// shared is set when the transaction carries other writers' work (a group commit).
	shared bool
}

// SQL is the underlying transaction, for River's InsertTx.
func (t *Tx) SQL() *sql.Tx { return t.tx }

// Store is the store the transaction belongs to.
func (t *Tx) Store() *Store { return t.s }

func (t *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.s.stmts.get(ctx, t.s, query); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, t.s.q(query), args...)
}

func (t *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.s.stmts.get(ctx, t.s, query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, t.s.q(query), args...)
}

func (t *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.s.stmts.get(ctx, t.s, query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, t.s.q(query), args...)
}

// Write runs fn in a write transaction and returns once it is committed durably, or with fn's
// error (fn's changes are then undone, and only fn's). Concurrent writes share one transaction
// and one commit (group commit): a failing write is rolled back alone (see groupWriter.commit),
// and once queued a write no longer follows ctx's cancellation, so one caller giving up cannot
// abort the others. fn may run twice (when another write of its batch failed): it must have no
// effect outside tx, and reset what it captures. fn must use only tx: on SQLite the writer's
// single connection is busy until the batch commits.
func (s *Store) Write(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	return s.writer.do(ctx, fn)
}

// MainWritesWithin reports whether a write other than bulk ones was queued in this process
// within the last d: people and webhooks are at work, and bulk work should leave them the CPU.
func (s *Store) MainWritesWithin(d time.Duration) bool {
	last := s.writer.lastMain.Load()
	return last != 0 && time.Since(time.Unix(0, last)) < d
}

// MainWriteLatency is the longest a write other than bulk ones took in this process, from
// queued to committed, over the last quarter to half second (0 when there was none): how
// long people's writes wait now, which bulk work uses to pace itself. quiet is the same
// measure averaged over times when no bulk write was queued (0 before the first such time).
func (s *Store) MainWriteLatency() (recent, quiet time.Duration) {
	return s.writer.mainLatency.worst(time.Now())
}

// BulkAtWork tells the store that bulk work (an alert's fan-out) is running in this process,
// even on another pool: people's writes meanwhile do not count as quiet in MainWriteLatency.
// The group writer says it itself for the bulk writes it carries.
func (s *Store) BulkAtWork() {
	s.writer.mainLatency.bulkQueued(time.Now())
}

// WaitNoPendingWrites waits until no write other than bulk ones (see Bulk) is queued or
// running in this process, for at most max: bulk work (the alert fan-out) pauses so, and the
// CPU and the writer go to inbound traffic first. It reports whether it waited.
func (s *Store) WaitNoPendingWrites(ctx context.Context, max time.Duration) bool {
	idle := s.writer.idleSignal()
	if idle == nil {
		return false
	}
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	case <-ctx.Done():
	}
	return true
}

// WriteAlone is Write for a write that takes a lock other replicas wait for (the assignment
// lock, the alert pacer's row): on PostgreSQL it runs in a transaction of its own, so the lock
// is held for that write only, and a batch of other writes never waits behind another
// replica's lock. On SQLite the single writer serializes everything anyway: it joins a batch.
func (s *Store) WriteAlone(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	if s.dialect == Postgres {
		return s.writer.direct(ctx, fn)
	}
	return s.writer.do(ctx, fn)
}

// query and queryRow read through the reader pool.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s.dialect == SQLite {
		if st := s.reads.get(ctx, s.rdb, query); st != nil {
			return st.QueryContext(ctx, args...)
		}
	}
	return s.rdb.QueryContext(ctx, s.q(query), args...)
}

func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if s.dialect == SQLite {
		if st := s.reads.get(ctx, s.rdb, query); st != nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	return s.rdb.QueryRowContext(ctx, s.q(query), args...)
}

// Query runs a read query (? placeholders) on the reader pool, for packages with their own tables.
func (s *Store) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.query(ctx, query, args...)
}

// QueryRow runs a single-row read query on the reader pool.
func (s *Store) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.queryRow(ctx, query, args...)
}

// Micros converts a time to the stored form.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// FromMicros converts the stored form back to UTC time.
func FromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := FromMicros(v.Int64)
	return &t
}

func nullInt(v sql.NullInt64) *int {
	if !v.Valid {
		return nil
	}
	n := int(v.Int64)
	return &n
}

func nullString(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	s := v.String
	return &s
}

func strOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func ptrOrNil(p *string) any {
	if p == nil || *p == "" {
		return nil
	}
	return *p
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner = interface{ Scan(...any) error }

// Collect reads every row of a query with scan, and closes the rows: the one row loop of the
// store and the packages with tables of their own.
func Collect[T any](rows *sql.Rows, err error, scan func(rowScanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Rebind rewrites a query written with ? placeholders for the store's dialect, for packages that
// prepare statements on a transaction's SQL() themselves.
func (s *Store) Rebind(query string) string { return s.q(query) }

// EncodeCursor is the opaque page cursor for a row at a time and id, as the store's own listings
// use, for packages that page their own tables.
func EncodeCursor(at int64, id string) string { return encodeCursor(at, id) }

// DecodeCursor reads a cursor made by EncodeCursor; a malformed one is ErrBadCursor.
func DecodeCursor(c string) (int64, string, error) { return decodeCursor(c) }
