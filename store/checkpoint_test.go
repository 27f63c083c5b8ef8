package store_test

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sportello/sportello/store"
)

// The writer no longer copies SQLite's log into the database file inside a commit
// (wal_autocheckpoint 0); a connection of its own does it in the background. 2 MB written is
// half of what SQLite's own automatic checkpoint waited for (1,000 pages), so the file grows
// only if the background copy runs.
func TestSQLiteLogIsCopiedIntoTheFileInTheBackground(t *testing.T) {
	ctx := context.Background()
	s, dir := openWithFiller(t)
	file := filepath.Join(dir, "sportello.db")
	before := fileSize(t, file)
	for i := 0; i < 8; i++ {
		if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO filler (b) VALUES (randomblob(262144))")
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for fileSize(t, file)-before < 2<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("the database file grew %d bytes in 5 s after 2 MiB were committed: the log was not copied into it", fileSize(t, file)-before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// While writes never stop, the background copy never reaches the log's end (the writer
// appends during it), and SQLite starts the log again from its beginning only once every frame
// has been copied: the log grew by 100 MB a second under SMS load. The group writer finishes
// each pass between two batches. SQLite counts the log's restarts in its header (bytes
// 12-15, the checkpoint sequence), so the test reads it there.
func TestSQLiteLogStartsAgainWhileWritesNeverStop(t *testing.T) {
	ctx := context.Background()
	s, dir := openWithFiller(t)
	wal := filepath.Join(dir, "sportello.db-wal")
	first := logRestarts(t, wal)
	stop := make(chan struct{})
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
					_, err := tx.Exec(ctx, "INSERT INTO filler (b) VALUES (randomblob(2000))")
					return err
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	deadline := time.Now().Add(3 * time.Second)
	for logRestarts(t, wal)-first < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	restarts := logRestarts(t, wal) - first
	close(stop)
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if restarts < 2 {
		t.Fatalf("the log started again %d times in 3 s of writes that never stopped (want at least 2): it only grows", restarts)
	}
}

// logRestarts reads the checkpoint sequence from a WAL file's header.
func logRestarts(t *testing.T, wal string) uint32 {
	t.Helper()
	f, err := os.Open(wal)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var header [16]byte
	if _, err := f.ReadAt(header[:], 0); err != nil {
		t.Fatal(err)
	}
	return binary.BigEndian.Uint32(header[12:16])
}

// openWithFiller opens a store on SQLite in a new folder, with a table to fill, closed at the
// test's end.
func openWithFiller(t *testing.T) (*store.Store, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "CREATE TABLE filler (b BLOB)")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return s, dir
}
