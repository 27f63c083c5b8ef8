package main

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// Three commits of ten rows each, every row a page of its own: the log holds three commits,
// about ten pages of the table each, and the index's pages.
func TestCountsFramesByTree(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sportello.db")
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	defer func() { _ = db.Close() }()
	for _, q := range []string{
		"CREATE TABLE contacts (id INTEGER PRIMARY KEY, at INTEGER, body TEXT)",
		"CREATE INDEX contacts_at ON contacts (at)",
		"PRAGMA wal_checkpoint(TRUNCATE)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for c := range 3 {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if _, err := tx.Exec("INSERT INTO contacts (at, body) VALUES (?, ?)", c*10+i, strings.Repeat("x", 3000)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	var out strings.Builder
	if err := run(&out, file, "contacts"); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.HasPrefix(got, "3 commits, ") || !strings.Contains(got, "\ncontacts ") || !strings.Contains(got, "\ncontacts_at ") {
		t.Fatalf("walstat printed:\n%s", got)
	}
	var perCommit float64
	for _, line := range strings.Split(got, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == "contacts" {
			if _, err := fmt.Sscan(f[1], &perCommit); err != nil {
				t.Fatal(err)
			}
		}
	}
	if perCommit < 10 || perCommit > 12 {
		t.Fatalf("%.2f pages of contacts a commit, want about 10 (a row a page):\n%s", perCommit, got)
	}
}
