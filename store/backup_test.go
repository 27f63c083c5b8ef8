package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// TestBackupWhileWriting snapshots a store that goroutines keep writing to: every write
// acknowledged before Backup was called is in the snapshot, the writes go on while it runs,
// the file is 0600 with nothing left beside it, and it is what a restore needs: the file alone
// as sportello.db of a new data folder opens, migrates (nothing to do) and passes
// integrity_check, with the attachment's bytes in it. PostgreSQL is refused, naming pg_dump.
func TestBackupWhileWriting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		out := filepath.Join(t.TempDir(), "backup.db")
		if s.Dialect() == store.Postgres {
			_, err := s.Backup(ctx, out, store.BackupOptions{})
			if !errors.Is(err, store.ErrBackupNotSQLite) || !strings.Contains(err.Error(), "pg_dump") {
				t.Fatalf("backup on PostgreSQL: %v", err)
			}
			assertNoEntries(t, filepath.Dir(out))
			return
		}
		attachment := make([]byte, 4<<20)
		if _, err := rand.Read(attachment); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Ingest(ctx, store.IngestRequest{In: channels.InboundMessage{Channel: channels.Email, ExternalID: "fax@example.org",
			MessageID: "fax@example.org", From: "fax@example.org", To: "urp@comune.fi.it", Subject: "Fax", Body: "in allegato",
			Attachments: []channels.Attachment{{Filename: "fax.tif", ContentType: "image/tiff", Data: attachment}}}}); err != nil {
			t.Fatal(err)
		}

		var mu sync.Mutex
		var acked []string
		stop := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					sid := fmt.Sprintf("SM%d-%d", w, i)
					if _, err := s.Ingest(ctx, store.IngestRequest{In: channels.InboundMessage{Channel: channels.SMS, ExternalID: sid,
						From: fmt.Sprintf("+39347%02d%05d", w, i), To: "+39055055", Body: "blocco del traffico?"}}); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					acked = append(acked, sid)
					mu.Unlock()
				}
			}()
		}
		ackedCount := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
		for ackedCount() < 300 {
			select {
			case err := <-errs:
				t.Fatal(err)
			default:
			}
		}
		mu.Lock()
		before := append([]string(nil), acked...)
		mu.Unlock()
		info, err := s.Backup(ctx, out, store.BackupOptions{})
		during := ackedCount() - len(before)
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if during == 0 {
			t.Fatal("no write was acknowledged while the backup ran: it held the writers")
		}
		var live int
		if err := s.QueryRow(ctx, "SELECT MAX(version) FROM sportello_migrations").Scan(&live); err != nil {
			t.Fatal(err)
		}
		abs, _ := filepath.Abs(out)
		if info.Path != abs || info.SchemaVersion != live || info.Contacts < len(before)+1 || info.Contacts > ackedCount()+1 {
			t.Fatalf("info %+v: want path %s, schema %d, between %d and %d contacts", info, abs, live, len(before)+1, ackedCount()+1)
		}
		fi, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 || fi.Size() != info.Bytes {
			t.Fatalf("the snapshot is %v, %d bytes; want 0600, %d bytes", fi.Mode().Perm(), fi.Size(), info.Bytes)
		}
		assertOnlyEntries(t, filepath.Dir(out), "backup.db")

		r := restore(t, out)
		for _, sid := range before {
			if _, err := r.ContactIDByExternal(ctx, channels.SMS, sid); err != nil {
				t.Fatalf("%s was acknowledged before the backup began, and is not in it: %v", sid, err)
			}
		}
		n, err := r.CountContacts(ctx)
		if err != nil || n != info.Contacts {
			t.Fatalf("the restored store has %d contacts (%v); the backup reported %d", n, err, info.Contacts)
		}
		var sum string
		if err := r.QueryRow(ctx, "SELECT sha256 FROM attachments WHERE filename = 'fax.tif'").Scan(&sum); err != nil {
			t.Fatal(err)
		}
		if b, err := r.Blob(ctx, sum); err != nil || !bytes.Equal(b, attachment) {
			t.Fatalf("the attachment's bytes in the restored store: %d bytes, %v", len(b), err)
		}
		t.Logf("%d writes acknowledged before the backup, %d while it ran (%v); %d contacts in it", len(before), during, info.Duration, info.Contacts)
	})
}

// restore does what the README says: the snapshot alone, as sportello.db of a new data folder,
// opened and migrated as serve does. It checks SQLite's integrity_check on the result.
func restore(t *testing.T, snapshot string) *store.Store {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	b, err := os.ReadFile(snapshot)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(store.SQLiteFile(dir), b, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := r.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var check string
	if err := r.QueryRow(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check of the restored snapshot: %q %v", check, err)
	}
	return r
}

// openSQLite opens and migrates a SQLite store in a data folder of the test's.
func openSQLite(t *testing.T) (*store.Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, _ := storetest.OpenURLWith(t, store.SQLite, store.Options{DataDir: dir})
	return s, dir
}

// TestBackupRefusesToOverwrite: a file at the path is kept unless Force, and the live database
// is never replaced, Force or not.
func TestBackupRefusesToOverwrite(t *testing.T) {
	ctx := context.Background()
	s, dataDir := openSQLite(t)
	out := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(out, []byte("an older backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backup(ctx, out, store.BackupOptions{}); !errors.Is(err, store.ErrBackupExists) {
		t.Fatalf("backup over a file without Force: %v", err)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "an older backup" {
		t.Fatalf("the file was touched: %q %v", b, err)
	}
	info, err := s.Backup(ctx, out, store.BackupOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() != info.Bytes || info.Bytes < 4096 {
		t.Fatalf("with Force: %+v, %v", info, err)
	}
	restore(t, out)
	for _, live := range []string{store.SQLiteFile(dataDir), store.SQLiteFile(dataDir) + "-wal"} {
		before, err := os.ReadFile(live)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Backup(ctx, live, store.BackupOptions{Force: true}); !errors.Is(err, store.ErrBackupOverLive) {
			t.Fatalf("backup over %s: %v", filepath.Base(live), err)
		}
		if after, err := os.ReadFile(live); err != nil || !bytes.Equal(before, after) {
			t.Fatalf("%s changed: %v", filepath.Base(live), err)
		}
	}
	assertOnlyEntries(t, dataDir, "sportello.db", "sportello.db-shm", "sportello.db-wal")
}

// TestBackupOfAnOlderSchemaIsRefused: a database this build would migrate is not backed up by
// it (the snapshot would not be the database this build serves).
func TestBackupOfAnOlderSchemaIsRefused(t *testing.T) {
	ctx := context.Background()
	s, _ := openSQLite(t)
	var latest int
	if err := s.QueryRow(ctx, "SELECT MAX(version) FROM sportello_migrations").Scan(&latest); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM sportello_migrations WHERE version = ?", latest)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err := s.Backup(ctx, filepath.Join(dir, "backup.db"), store.BackupOptions{})
	var schema *store.BackupSchemaError
	if !errors.As(err, &schema) || schema.Have != latest-1 || schema.Want != latest {
		t.Fatalf("backup of a database at schema %d: %v", latest-1, err)
	}
	assertNoEntries(t, dir)
}

// TestBackupLeavesNothingInAnUnwritableFolder: the backup fails with the reason and leaves
// neither the file nor a temporary one.
func TestBackupLeavesNothingInAnUnwritableFolder(t *testing.T) {
	ctx := context.Background()
	s, _ := openSQLite(t)
	dir := unwritableDir(t)
	out := filepath.Join(dir, "backup.db")
	_, err := s.Backup(ctx, out, store.BackupOptions{})
	if err == nil || !errors.Is(err, os.ErrPermission) {
		t.Fatalf("backup into an unwritable folder: %v", err)
	}
	assertNoEntries(t, dir)
}

// unwritableDir is a folder nobody can create files in: mode 0500 stops a user; root, whom
// modes do not stop, is stopped by the immutable attribute.
func unwritableDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "readonly")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	if !canCreateIn(dir) {
		return dir
	}
	out, err := exec.Command("chattr", "+i", dir).CombinedOutput()
	if err == nil {
		t.Cleanup(func() {
			if out, err := exec.Command("chattr", "-i", dir).CombinedOutput(); err != nil {
				t.Errorf("chattr -i %s: %v %s", dir, err, out)
			}
		})
		if canCreateIn(dir) {
			err = errors.New("still writable after chattr +i")
		}
	} else {
		err = fmt.Errorf("%v: %s", err, out)
	}
	storetest.RequirePeer(t, "an unwritable folder (mode 0500, or chattr +i as root)", err)
	return dir
}

func canCreateIn(dir string) bool {
	f, err := os.CreateTemp(dir, "probe")
	if err != nil {
		return false
	}
	_ = f.Close()
	_ = os.Remove(f.Name())
	return true
}

func assertNoEntries(t *testing.T, dir string) {
	t.Helper()
	assertOnlyEntries(t, dir)
}

// assertOnlyEntries fails when dir holds anything but names (a temporary file left behind).
func assertOnlyEntries(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for _, e := range entries {
		if !want[e.Name()] {
			t.Errorf("%s holds %s", dir, e.Name())
		}
	}
}
