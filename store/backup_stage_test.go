package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestStageFileLeavesNoHalfFile: a backup that fails after writing part of its file leaves
// nothing at the path and no temporary folder; a file that appears at the path while the
// backup is written is kept (without force) or replaced whole (with force).
func TestStageFileLeavesNoHalfFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "backup.db")
	half := func(fail error) func(string) (string, error) {
		return func(tmp string) (string, error) {
			file := filepath.Join(tmp, "sportello.db")
			if err := os.WriteFile(file, []byte("half a database"), 0o644); err != nil {
				t.Fatal(err)
			}
			return file, fail
		}
	}
	broken := errors.New("disk full")
	if err := stageFile(path, false, half(broken)); !errors.Is(err, broken) {
		t.Fatalf("a failing fill: %v", err)
	}
	assertEntries(t, dir)

	appears := func(tmp string) (string, error) {
		if err := os.WriteFile(path, []byte("someone else's"), 0o600); err != nil {
			t.Fatal(err)
		}
		return half(nil)(tmp)
	}
	if err := stageFile(path, false, appears); !errors.Is(err, ErrBackupExists) {
		t.Fatalf("a file appearing meanwhile, without force: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "someone else's" {
		t.Fatalf("the file that appeared was touched: %q %v", b, err)
	}
	assertEntries(t, dir, "backup.db")

	if err := stageFile(path, true, appears); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "half a database" || fi.Mode().Perm() != dataFileMode {
		t.Fatalf("with force: %q, mode %v", b, fi.Mode().Perm())
	}
	assertEntries(t, dir, "backup.db")
}

func assertEntries(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if len(got) != len(names) {
		t.Fatalf("%s holds %q, want %q", dir, got, names)
	}
	for i := range names {
		if got[i] != names[i] {
			t.Fatalf("%s holds %q, want %q", dir, got, names)
		}
	}
}
