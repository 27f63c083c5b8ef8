package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Modes of what the store keeps on disk. The database holds citizens' messages, phone numbers
// and password hashes: nobody but the service's own user has any business reading it, so the
// data directory is 0700 and every file in it 0600, whatever the process umask.
const (
	dataDirMode  fs.FileMode = 0o700
	dataFileMode fs.FileMode = 0o600
)

// sqliteSuffixes are the files SQLite keeps beside the database in WAL mode.
var sqliteSuffixes = []string{"", "-wal", "-shm", "-journal"}

// prepareDataDir makes the data directory private and creates the database file 0600 before
// SQLite opens it. SQLite gives its -wal and -shm files the mode of the database file, so
// creating the database ourselves is what keeps them private too. Files and a directory left
// readable by an earlier version are tightened rather than refused: the operator upgrading
// gets the safe modes without a manual step.
func prepareDataDir(dir, dbPath string) error {
	if err := os.MkdirAll(dir, dataDirMode); err != nil {
		return fmt.Errorf("store: data dir: %w", err)
	}
	if err := tighten(dir, dataDirMode); err != nil {
		return err
	}
	f, err := os.OpenFile(dbPath, os.O_RDWR|os.O_CREATE, dataFileMode)
	if err != nil {
		return fmt.Errorf("store: database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store: database file: %w", err)
	}
	for _, suffix := range sqliteSuffixes {
		if err := tighten(dbPath+suffix, dataFileMode); err != nil {
			return err
		}
	}
	return nil
}

// tighten removes any permission bits beyond want from path; a missing path is fine.
func tighten(path string, want fs.FileMode) error {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if info.Mode().Perm()&^want == 0 {
		return nil
	}
	if err := os.Chmod(path, info.Mode().Perm()&want); err != nil {
		return fmt.Errorf("store: making %s private: %w", path, err)
	}
	return nil
}
