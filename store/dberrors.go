package store

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Database errors are told apart by their codes, never by their text: a message can change
// between versions or be quoted inside another error, a code cannot.

// PostgreSQL SQLSTATE codes (Appendix A of its manual).
const (
	pgUniqueViolation      = "23505"
	pgUndefinedTable       = "42P01"
	pgDeadlockDetected     = "40P01"
	pgSerializationFailure = "40001"
)

// isTransientConflict recognizes a transaction PostgreSQL aborted to break a deadlock or a
// serialization conflict: running it again can succeed.
func isTransientConflict(err error) bool {
	switch pgCode(err) {
	case pgDeadlockDetected, pgSerializationFailure:
		return true
	}
	return false
}

// sqliteCode is the extended result code of a SQLite error (modernc.org/sqlite turns extended
// codes on for every connection), or 0 when err is not one.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// pgCode is the SQLSTATE of a PostgreSQL error, or "" when err is not one.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// isUniqueViolation recognizes a uniqueness error (unique index or primary key) from either
// database.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return pgCode(err) == pgUniqueViolation
}

// isMissingTable recognizes preparing against a database not migrated yet. SQLite reports it
// with its generic SQLITE_ERROR code, so any such error is taken as "not migrated yet": Open's
// prepare is only an early start, and Migrate prepares again and reports any error.
func isMissingTable(err error) bool {
	if err == nil {
		return false
	}
	if sqliteCode(err) == sqlite3.SQLITE_ERROR {
		return true
	}
	return pgCode(err) == pgUndefinedTable
}

// IsUniqueViolation is exported for packages that keep their own tables in this store.
func IsUniqueViolation(err error) bool { return isUniqueViolation(err) }

// PostgreSQL SQLSTATE codes and classes of a refused value.
const (
	pgClassDataException = "22" // a value it cannot hold: NUL or invalid UTF-8 in text, a number out of range
	pgClassProgramLimit  = "54" // a row or index entry over a hard limit
	pgNotNullViolation   = "23502"
	pgCheckViolation     = "23514"
)

// IsRefusedData recognizes a write the database refused for the data it was given, not for
// its own health: the same write fails the same way however often it is retried. Lost
// connections, timeouts, a busy or full database, deadlocks and uniqueness or foreign-key
// conflicts (a race another attempt can win) are not refusals.
func IsRefusedData(err error) bool {
	if err == nil {
		return false
	}
	if code := sqliteCode(err); code != 0 {
		switch code {
		case sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH,
			sqlite3.SQLITE_CONSTRAINT_NOTNULL, sqlite3.SQLITE_CONSTRAINT_CHECK:
			return true
		}
		return false
	}
	code := pgCode(err)
	if len(code) != 5 {
		return false
	}
	switch code[:2] {
	case pgClassDataException, pgClassProgramLimit:
		return true
	}
	return code == pgNotNullViolation || code == pgCheckViolation
}
