package store

import "strings"

// sqliteNoPeek writes every "= ?" of a query as "= +?" for SQLite.
//
// Why: when a table has a partial index whose condition is "column = literal" (for example
// messages_app_io, WHERE channel = 'app_io'), SQLite's planner compares a query's
// "channel = ?" with that condition by reading the value bound to ?, and then marks the
// statement to be compiled again whenever ? is bound anew, that is on every run. A prepared
// statement then costs a full parse and plan each time (ingest of one SMS spent 7 % of the
// gateway's CPU recompiling one lookup). Unary + is a no-op on any value in SQLite and leaves
// an equality usable by an index, but it is not a bare parameter, so the planner does not
// peek. PostgreSQL never sees this form.
func sqliteNoPeek(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	inQuote := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c == '\'' {
			inQuote = !inQuote
		}
		if c == '?' && !inQuote && afterBareEquals(query[:i]) {
			b.WriteByte('+')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// afterBareEquals reports whether s ends with "=" and optional spaces, the "=" not being part
// of "<=", ">=", "!=" or "==".
func afterBareEquals(s string) bool {
	s = strings.TrimRight(s, " \t\n")
	if !strings.HasSuffix(s, "=") {
		return false
	}
	s = s[:len(s)-1]
	return s == "" || !strings.ContainsRune("<>!=", rune(s[len(s)-1]))
}
