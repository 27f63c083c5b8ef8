package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/sportello/sportello/store"
)

// backupLine is what `sportello backup --format json` prints, on one line.
type backupLine struct {
	Path            string  `json:"path"`
	Bytes           int64   `json:"bytes"`
	Contacts        int     `json:"contacts"`
	SchemaVersion   int     `json:"schema_version"`
	DurationSeconds float64 `json:"duration_seconds"`
}

// runBackup writes a consistent snapshot of the embedded SQLite database, also while serve
// runs. PostgreSQL has its own tools, which the refusal names.
func runBackup(ctx context.Context, e *env, args []string) error {
	flags, cfgPath := newFlags("backup", e)
	out := flags.String("out", "", "the snapshot file to write (its folder must exist)")
	force := flags.Bool("force", false, "replace a file already at --out")
	format := flags.String("format", "text", "text (one line for people) or json (one line for programs)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("--out is required")
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (the file goes in --out)", flags.Arg(0))
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("--format must be text or json, got %q", *format)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL != "" {
		return fmt.Errorf("backup: this deployment uses PostgreSQL (database_url): %w", store.ErrBackupNotSQLite)
	}
	// Opening the store would create an empty database where there is none.
	if err := existingDatabase(store.SQLiteFile(cfg.DataDir)); err != nil {
		return err
	}
	s, err := store.Open(ctx, store.Options{DataDir: cfg.DataDir})
	if err != nil {
		return err
	}
	info, err := s.Backup(ctx, *out, store.BackupOptions{Force: *force})
	cerr := s.Close()
	if errors.Is(err, store.ErrBackupExists) {
		err = fmt.Errorf("%w (--force replaces it)", err)
	}
	if err != nil {
		return errors.Join(err, cerr)
	}
	if cerr != nil {
		return fmt.Errorf("backup: %s is written, but closing the database failed: %w", info.Path, cerr)
	}
	if *format == "json" {
		b, err := json.Marshal(backupLine{Path: info.Path, Bytes: info.Bytes, Contacts: info.Contacts,
			SchemaVersion: info.SchemaVersion, DurationSeconds: info.Duration.Seconds()})
		if err != nil {
			return err
		}
		return printed(fmt.Fprintf(e.stdout, "%s\n", b))
	}
	return printed(fmt.Fprintf(e.stdout, "backup: wrote %s (%d bytes, %d contacts, schema version %d) in %.2f s, verified\n",
		info.Path, info.Bytes, info.Contacts, info.SchemaVersion, info.Duration.Seconds()))
}

// existingDatabase refuses a data folder with no database in it.
func existingDatabase(file string) error {
	fi, err := os.Stat(file)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup: no database at %s (check data_dir)", file)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("backup: %s is not a database file", file)
	}
	return nil
}
