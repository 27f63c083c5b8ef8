package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrBackupNotSQLite is Backup on PostgreSQL: its own tools do it.
var ErrBackupNotSQLite = errors.New("store: backup copies the embedded SQLite database only; " +
	"back PostgreSQL up with pg_dump or its own backup tooling (pg_basebackup with WAL archiving, or the provider's snapshots)")

// ErrBackupExists is Backup to a path that exists, without Force.
var ErrBackupExists = errors.New("store: backup: the file exists")

// ErrBackupOverLive is Backup to the live database's own files.
var ErrBackupOverLive = errors.New("store: backup: that path is the live database")

// BackupSchemaError is Backup of a database whose schema is not the one this build migrates
// to: the snapshot would not be what this build restores and serves as is.
type BackupSchemaError struct {
	// Have is the database's version, Want this build's.
	Have, Want int
}

func (e *BackupSchemaError) Error() string {
	return fmt.Sprintf("store: backup: the database is at schema version %d, this build's is %d: "+
		"back it up with the build that serves it, or migrate it first", e.Have, e.Want)
}

// BackupVerifyError is a snapshot that failed its checks; nothing was written at the path.
type BackupVerifyError struct {
	Reason string
}

func (e *BackupVerifyError) Error() string {
	return "store: backup: the snapshot failed its check: " + e.Reason
}

// BackupOptions configure Backup.
type BackupOptions struct {
	// Force replaces a file already at the path.
	Force bool
}

// BackupInfo is what Backup wrote.
type BackupInfo struct {
	Path          string
	Bytes         int64
	Contacts      int
	SchemaVersion int
	Duration      time.Duration
}

// Backup writes a consistent snapshot of the SQLite database to path while the database is
// in use, by this process and others: every write committed before it began is in it, none
// that commits later is. The snapshot is a database file of its own (no -wal beside it) that
// serve opens as its sportello.db. It holds everything the store keeps: files are blobs in the
// database, River's jobs are its tables; call recordings and MMS media stay at the provider.
//
// It is written 0600 under a temporary folder beside path, checked (integrity_check, opened by
// the store at this build's schema version), synced, and only then given its name: a crash or
// an error leaves nothing at path (at worst a .sportello-backup-* folder beside it).
func (s *Store) Backup(ctx context.Context, path string, opts BackupOptions) (BackupInfo, error) {
	start := time.Now()
	if s.dialect != SQLite {
		return BackupInfo{}, ErrBackupNotSQLite
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("store: backup: %w", err)
	}
	if err := s.checkBackupTarget(path, opts.Force); err != nil {
		return BackupInfo{}, err
	}
	want, err := latestSchemaVersion()
	if err != nil {
		return BackupInfo{}, err
	}
	have, err := schemaVersion(ctx, s.rdb)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("store: backup: reading the schema version: %w", err)
	}
	if have != want {
		return BackupInfo{}, &BackupSchemaError{Have: have, Want: want}
	}
	info := BackupInfo{Path: path}
	err = stageFile(path, opts.Force, func(dir string) (string, error) {
		file := SQLiteFile(dir)
		if err := s.vacuumInto(ctx, file); err != nil {
			return "", err
		}
		return file, verifySnapshot(ctx, dir, want, &info)
	})
	if err != nil {
		return BackupInfo{}, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("store: backup: %w", err)
	}
	info.Bytes = fi.Size()
	info.Duration = time.Since(start)
	return info, nil
}

// checkBackupTarget refuses early what stageFile would refuse late, and what it must never
// do: replace the live database (with Force, the rename would, under a running server).
func (s *Store) checkBackupTarget(path string, force bool) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	for _, suffix := range sqliteSuffixes {
		live, err := os.Stat(s.path + suffix)
		if err == nil && os.SameFile(fi, live) {
			return fmt.Errorf("%w: %s", ErrBackupOverLive, path)
		}
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("store: backup: %s exists and is not a regular file", path)
	}
	if !force {
		return fmt.Errorf("%w: %s", ErrBackupExists, path)
	}
	return nil
}

// vacuumInto copies the database into file, a new database, from a read transaction: WAL lets
// the writers go on meanwhile, and the copy is the database as of the transaction's start. The
// store's readers are query_only, which SQLite takes to forbid VACUUM INTO's writes to the
// other file, so it runs on a connection of its own. The file is created empty first (SQLite
// writes into an empty file), so it has the data files' mode from the start.
func (s *Store) vacuumInto(ctx context.Context, file string) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, dataFileMode)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+s.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	_, err = db.ExecContext(ctx, "VACUUM INTO ?", file)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: backup: VACUUM INTO: %w", err)
	}
	return nil
}

// verifySnapshot opens the snapshot in dir as serve would (the store, WAL mode) and checks it
// before it is named: SQLite's integrity_check, and this build's schema version. Closing the
// store copies its log back into the file, so the file alone is the database again.
func verifySnapshot(ctx context.Context, dir string, want int, info *BackupInfo) (err error) {
	v, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		return &BackupVerifyError{Reason: "the store does not open it: " + err.Error()}
	}
	defer func() {
		if cerr := v.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("store: backup: closing the snapshot: %w", cerr)
		}
		if err == nil {
			err = noLogLeft(SQLiteFile(dir))
		}
	}()
	rows, err := v.rdb.QueryContext(ctx, "PRAGMA integrity_check")
	problems, err := Collect(rows, err, func(r rowScanner) (string, error) {
		var line string
		return line, r.Scan(&line)
	})
	if err != nil {
		return fmt.Errorf("store: backup: integrity_check: %w", err)
	}
	if len(problems) != 1 || problems[0] != "ok" {
		return &BackupVerifyError{Reason: "integrity_check: " + strings.Join(problems, "; ")}
	}
	if info.SchemaVersion, err = schemaVersion(ctx, v.rdb); err != nil {
		return &BackupVerifyError{Reason: "no schema version: " + err.Error()}
	}
	if info.SchemaVersion != want {
		return &BackupVerifyError{Reason: fmt.Sprintf("schema version %d, want %d", info.SchemaVersion, want)}
	}
	if info.Contacts, err = v.CountContacts(ctx); err != nil {
		return &BackupVerifyError{Reason: "counting contacts: " + err.Error()}
	}
	return nil
}

// noLogLeft checks that nothing of the snapshot is left in a -wal file beside it, which a
// rename of the database file alone would leave behind.
func noLogLeft(file string) error {
	fi, err := os.Stat(file + "-wal")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if fi.Size() > 0 {
		return &BackupVerifyError{Reason: fmt.Sprintf("%d bytes left in its write-ahead log after closing", fi.Size())}
	}
	return nil
}

// stageFile makes the file at path with fill and no half file there ever: fill writes it in
// a new private folder beside path (the same filesystem, so the final step is a link or a
// rename), the file is made 0600 and synced, then named path, and the directory synced. With
// force it replaces a file at path (rename); without, a file appearing at path meanwhile is
// left alone and the result is ErrBackupExists (link, which refuses to replace). The folder is
// removed whatever happens.
func stageFile(path string, force bool, fill func(dir string) (file string, err error)) (err error) {
	parent := filepath.Dir(path)
	dir, err := os.MkdirTemp(parent, ".sportello-backup-*")
	if err != nil {
		return fmt.Errorf("store: backup: a temporary folder in %s: %w", parent, err)
	}
	defer func() {
		if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
			err = fmt.Errorf("store: backup: %s is written, but its temporary folder is left: %w", path, rerr)
		}
	}()
	file, err := fill(dir)
	if err != nil {
		return err
	}
	if err := os.Chmod(file, dataFileMode); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := syncPath(file); err != nil {
		return err
	}
	if err := place(file, path, force); err != nil {
		return err
	}
	return syncPath(parent)
}

// place names file path: a rename when it may replace, else a link, which fails if path
// exists. A filesystem without hard links (FAT, exFAT) gets a check and a rename.
func place(file, path string, force bool) error {
	if force {
		if err := os.Rename(file, path); err != nil {
			return fmt.Errorf("store: backup: %w", err)
		}
		return nil
	}
	err := os.Link(file, path)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", ErrBackupExists, path)
	}
	if _, serr := os.Lstat(path); serr == nil {
		return fmt.Errorf("%w: %s", ErrBackupExists, path)
	} else if !errors.Is(serr, fs.ErrNotExist) {
		return fmt.Errorf("store: backup: %w", errors.Join(err, serr))
	}
	if rerr := os.Rename(file, path); rerr != nil {
		return fmt.Errorf("store: backup: %w", errors.Join(err, rerr))
	}
	return nil
}

// syncPath fsyncs a file or a directory (for a directory: the names in it).
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: backup: syncing %s: %w", path, err)
	}
	return nil
}

// schemaVersion is the highest migration applied to the database db reads (0: none, the
// database was never migrated).
func schemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	err := db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM sportello_migrations").Scan(&v)
	if isMissingTable(err) {
		return 0, nil
	}
	return v, err
}

// latestSchemaVersion is the highest migration this build has.
func latestSchemaVersion() (int, error) {
	ms, err := migrations()
	if err != nil {
		return 0, err
	}
	return ms[len(ms)-1].version, nil
}
