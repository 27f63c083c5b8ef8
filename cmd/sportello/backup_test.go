package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestBackupCommand: one line says what was written; the file is kept without --force;
// --format json is one line for programs; a data folder with no database and a PostgreSQL
// config are refused, the latter naming pg_dump, without writing anything.
func TestBackupCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sportello.yaml")
	data := filepath.Join(dir, "data")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("data_dir: %q\ncomuni: [{id: firenze, name: Firenze}]\n", data)), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "backup.db")
	e, _, _ := testEnv()
	if err := dispatch(ctx, e, []string{"backup", "--config", cfg, "--out", out}); err == nil || !strings.Contains(err.Error(), "no database at") {
		t.Fatalf("backup of a data folder with no database: %v", err)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("backup created the data folder: %v", err)
	}
	e, _, _ = testEnv()
	e.stdin = strings.NewReader("una-password-lunga\n")
	if err := dispatch(ctx, e, []string{"user", "add", "--config", cfg, "--username", "anna", "--role", "operator"}); err != nil {
		t.Fatal(err)
	}

	e, stdout, _ := testEnv()
	if err := dispatch(ctx, e, []string{"backup", "--config", cfg, "--out", out}); err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^backup: wrote (.+) \((\d+) bytes, 0 contacts, schema version \d+\) in \d+\.\d\d s, verified\n$`)
	m := line.FindStringSubmatch(stdout.String())
	if m == nil || m[1] != out {
		t.Fatalf("backup printed %q", stdout)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 || fmt.Sprint(fi.Size()) != m[2] {
		t.Fatalf("the snapshot: %v %v, printed %s bytes", fi, err, m[2])
	}

	e, _, _ = testEnv()
	if err := dispatch(ctx, e, []string{"backup", "--config", cfg, "--out", out}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("backup over a file without --force: %v", err)
	}
	e, stdout, _ = testEnv()
	if err := dispatch(ctx, e, []string{"backup", "--config", cfg, "--out", out, "--force", "--format", "json"}); err != nil {
		t.Fatal(err)
	}
	var got backupLine
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || strings.Count(stdout.String(), "\n") != 1 {
		t.Fatalf("--format json printed %q: %v", stdout, err)
	}
	if got.Path != out || got.Bytes != fi.Size() || got.SchemaVersion == 0 || got.DurationSeconds <= 0 {
		t.Fatalf("--format json: %+v", got)
	}

	pg := filepath.Join(dir, "pg.yaml")
	if err := os.WriteFile(pg, []byte("database_url: postgres://postgres@127.0.0.1:1/none\ncomuni: [{id: firenze, name: Firenze}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pgOut := filepath.Join(dir, "pg.db")
	e, _, _ = testEnv()
	if err := dispatch(ctx, e, []string{"backup", "--config", pg, "--out", pgOut}); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("backup with database_url: %v", err)
	}
	if _, err := os.Stat(pgOut); !os.IsNotExist(err) {
		t.Fatalf("backup with database_url wrote %s: %v", pgOut, err)
	}
	e, _, _ = testEnv()
	if err := dispatch(ctx, e, []string{"backup", "--config", cfg}); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Fatalf("backup without --out: %v", err)
	}
}
