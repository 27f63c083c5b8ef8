package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %q must be named NNNN_name.sql", e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("store: two migrations numbered %d", ms[i].version)
		}
	}
	return ms, nil
}

// Migrate applies every migration not applied yet, each in its own transaction. Replicas
// starting together on PostgreSQL take turns through an advisory lock.
func (s *Store) Migrate(ctx context.Context) error { return s.MigrateThen(ctx, nil) }

// MigrateThen is Migrate followed by then (another component's migrations, River's) under the
// same advisory lock: on PostgreSQL, replicas starting together would otherwise race in the
// second set (River's CREATE TYPE fails with a duplicate key in pg_type). then runs on other
// connections of the pool; the lock, held by this one, is what makes the others wait.
func (s *Store) MigrateThen(ctx context.Context, then func(context.Context) error) (err error) {
	ms, err := migrations()
	if err != nil {
		return err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if s.dialect == Postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(4242055)"); err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
		defer func() {
			// A lock left held would make every later migration wait: report it.
			if _, uerr := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(4242055)"); uerr != nil && err == nil {
				err = fmt.Errorf("store: migration unlock: %w", uerr)
			}
		}()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS sportello_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	for _, m := range ms {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM sportello_migrations WHERE version = ?"), m.version).Scan(&n); err != nil {
			tx.Rollback()
			return err
		}
		if n > 0 {
			tx.Rollback()
			continue
		}
		for _, stmt := range splitStatements(m.sql) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				tx.Rollback()
				return fmt.Errorf("store: migration %s: %w", m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO sportello_migrations (version, name, applied_at) VALUES (?, ?, ?)"), m.version, m.name, Micros(s.now())); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	// The STOP list's hashing secret, made once per database (see ErasedKey).
	if _, err := conn.ExecContext(ctx, s.q("INSERT INTO erasure_salt (id, salt) VALUES (1, ?) ON CONFLICT (id) DO NOTHING"), newSalt()); err != nil {
		return fmt.Errorf("store: erasure salt: %w", err)
	}
	if s.dialect == SQLite {
		// Give the single writer connection back before preparing on it and before then uses
		// it; SQLite has one process, so there is no one to race.
		conn.Close()
		if err := s.stmts.prepare(ctx, s.db, hotQueries); err != nil {
			return err
		}
	}
	if then != nil {
		return then(ctx)
	}
	return nil
}

// Migrated reports whether every migration is applied (for /readyz).
func (s *Store) Migrated(ctx context.Context) (bool, error) {
	ms, err := migrations()
	if err != nil {
		return false, err
	}
	var max int
	if err := s.queryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM sportello_migrations").Scan(&max); err != nil {
		return false, err
	}
	return max >= ms[len(ms)-1].version, nil
}

// splitStatements splits a migration on semicolons at line ends; our migrations hold no
// procedural code, so that is enough.
func splitStatements(sqlText string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(sqlText, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			if st := strings.TrimSpace(cur.String()); st != ";" {
				out = append(out, strings.TrimSuffix(st, ";"))
			}
			cur.Reset()
		}
	}
	if st := strings.TrimSpace(cur.String()); st != "" {
		out = append(out, st)
	}
	return out
}
