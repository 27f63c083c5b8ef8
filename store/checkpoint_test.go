package store_test

import (
	"context"
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
	dir := t.TempDir()
	s, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "CREATE TABLE filler (b BLOB)")
		return err
	}); err != nil {
		t.Fatal(err)
	}
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
