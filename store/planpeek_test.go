package store

import "testing"

func TestSQLiteNoPeek(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT a FROM t WHERE channel = ? AND x = ?":         "SELECT a FROM t WHERE channel = +? AND x = +?",
		"UPDATE t SET a=? WHERE b <= ? AND c >= ? AND d != ?": "UPDATE t SET a=+? WHERE b <= ? AND c >= ? AND d != ?",
		"SELECT '= ?' FROM t WHERE a == ? AND b IN (?, ?)":    "SELECT '= ?' FROM t WHERE a == ? AND b IN (?, ?)",
		"INSERT INTO t (a) VALUES (?)":                        "INSERT INTO t (a) VALUES (?)",
		"SELECT 1":                                            "SELECT 1",
	} {
		if got := sqliteNoPeek(in); got != want {
			t.Errorf("sqliteNoPeek(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}
