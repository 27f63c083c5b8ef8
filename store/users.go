package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// Roles a user can have.
const (
	RoleOperator   = "operator"
	RoleSupervisor = "supervisor"
	RoleAdmin      = "admin"
)

// ValidRole reports whether r is a role.
func ValidRole(r string) bool { return r == RoleOperator || r == RoleSupervisor || r == RoleAdmin }

// User is an operator, supervisor or admin.
type User struct {
	ID           string
	Username     string
	Name         string
	Role         string
	PasswordHash string
	// Comuni limits what the user sees; empty means every comune.
	Comuni     []string
	Categories []string
	Capacity   int
	Presence   string
	CreatedAt  time.Time
	// SeesUndecided: besides Comuni, the user sees contacts whose comune is still to be decided
	// (one of their comuni is served by a shared number: Options.UndecidedComuni).
	SeesUndecided bool
}

// Scope is what the user may see.
func (u User) Scope() Scope {
	if len(u.Comuni) == 0 {
		return Scope{}
	}
	return Scope{Comuni: u.Comuni, Undecided: u.SeesUndecided}
}

// AtLeast reports whether the user's role is r or stronger.
func (u User) AtLeast(r string) bool {
	rank := map[string]int{RoleOperator: 1, RoleSupervisor: 2, RoleAdmin: 3}
	return rank[u.Role] >= rank[r]
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// CreateUser adds a user; the username must be new.
func (s *Store) CreateUser(ctx context.Context, u User) (User, error) {
	return s.CreateUserWith(ctx, u, "")
}

// CreateUserWith is CreateUser with where the user answers calls ("" for the browser
// softphone); the audit entries, if any, commit with the user.
func (s *Store) CreateUserWith(ctx context.Context, u User, phone string, audit ...AuditEntry) (User, error) {
	if u.ID == "" {
		u.ID = NewID()
	}
	if u.Capacity == 0 {
		u.Capacity = 5
	}
	u.CreatedAt = s.now()
	err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO users (id, username, name, role, password_hash, comuni, categories, capacity, phone, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, u.ID, u.Username, u.Name, u.Role, u.PasswordHash,
			strings.Join(u.Comuni, ","), strings.Join(u.Categories, ","), u.Capacity, phone, Micros(u.CreatedAt))
		if err != nil {
			return err
		}
		return s.auditAll(ctx, tx, audit)
	})
	if isUniqueViolation(err) {
		return u, ErrConflict
	}
	return u, err
}

const userColumns = "id, username, name, role, password_hash, comuni, categories, capacity, presence, created_at"

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var comuni, cats string
	var created int64
	err := row.Scan(&u.ID, &u.Username, &u.Name, &u.Role, &u.PasswordHash, &comuni, &cats, &u.Capacity, &u.Presence, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	u.Comuni, u.Categories, u.CreatedAt = splitList(comuni), splitList(cats), FromMicros(created)
	return u, err
}

// scanScopedUser is scanUser that also tells whether the user sees undecided contacts.
func (s *Store) scanScopedUser(row interface{ Scan(...any) error }) (User, error) {
	u, err := scanUser(row)
	for _, c := range u.Comuni {
		if s.undecided[c] {
			u.SeesUndecided = true
		}
	}
	return u, err
}

// UserByUsername finds a user who has not been deleted.
func (s *Store) UserByUsername(ctx context.Context, username string) (User, error) {
	return s.scanScopedUser(s.queryRow(ctx, "SELECT "+userColumns+" FROM users WHERE username = ? AND deleted_at IS NULL", username))
}

// UserByID finds a user who has not been deleted.
func (s *Store) UserByID(ctx context.Context, id string) (User, error) {
	return s.scanScopedUser(s.queryRow(ctx, "SELECT "+userColumns+" FROM users WHERE id = ? AND deleted_at IS NULL", id))
}

// Users lists every user who has not been deleted.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.query(ctx, "SELECT "+userColumns+" FROM users WHERE deleted_at IS NULL ORDER BY username")
	return Collect(rows, err, s.scanScopedUser)
}

// CountUsers counts users who have not been deleted.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, "SELECT COUNT(*) FROM users WHERE deleted_at IS NULL").Scan(&n)
	return n, err
}

// DeleteUser marks a user deleted, revokes their tokens and sessions, and returns the contacts
// they held to their queues as going offline does (a call assigned to them must not be dialled
// to nobody). The assignment lock keeps an assignment from slipping in meanwhile.
func (s *Store) DeleteUser(ctx context.Context, username string) error {
	return s.WriteAlone(ctx, func(ctx context.Context, tx *Tx) error {
		if err := s.LockAssignments(ctx, tx); err != nil {
			return err
		}
		now := Micros(s.now())
		res, err := tx.Exec(ctx, "UPDATE users SET deleted_at = ?, presence = 'offline' WHERE username = ? AND deleted_at IS NULL", now, username)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = tx.Exec(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE user_id = (SELECT id FROM users WHERE username = ?) AND revoked_at IS NULL", now, username)
		if err != nil {
			return err
		}
		_, err = s.RequeueTx(ctx, tx, username)
		return err
	})
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, userID, hash string) error {
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.Exec(ctx, "UPDATE users SET password_hash = ? WHERE id = ?", hash, userID)
		return err
	})
}

// Token kinds.
const (
	TokenAPI     = "api"
	TokenSession = "session"
	// TokenPasswordLink is a one-time link to set one's password (a new user's first, or after
	// a reset); setting the password ends it, with the user's sessions.
	TokenPasswordLink = "password_link"
)

// HashToken is how tokens are stored: only their SHA-256.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// RandomToken makes a new secret with the given prefix.
func RandomToken(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// CreateToken issues a token for a user; ttl 0 means no expiry. The token is returned once and
// only its hash is kept.
func (s *Store) CreateToken(ctx context.Context, userID, kind string, ttl time.Duration) (string, error) {
	return s.CreateNamedToken(ctx, userID, kind, "", ttl)
}

// CreateNamedToken is CreateToken with a name the user recognizes it by ("deploy script"); the
// audit entries, if any, commit with the token.
func (s *Store) CreateNamedToken(ctx context.Context, userID, kind, name string, ttl time.Duration, audit ...AuditEntry) (string, error) {
	token := RandomToken("spt_")
	if kind == TokenSession {
		token = RandomToken("")
	}
	var expires any
	if ttl > 0 {
		expires = Micros(s.now().Add(ttl))
	}
	err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO api_tokens (hash, user_id, kind, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
			HashToken(token), userID, kind, name, Micros(s.now()), expires)
		if err != nil {
			return err
		}
		return s.auditAll(ctx, tx, audit)
	})
	return token, err
}

// UserByToken finds the live user a token belongs to.
func (s *Store) UserByToken(ctx context.Context, token, kind string) (User, error) {
	return s.scanScopedUser(s.queryRow(ctx, "SELECT "+prefixed("u.", userColumns)+` FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = ? AND t.kind = ? AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?) AND u.deleted_at IS NULL
		AND u.disabled_at IS NULL`,
		HashToken(token), kind, Micros(s.now())))
}

// RevokeToken revokes one token.
func (s *Store) RevokeToken(ctx context.Context, token string) error {
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.Exec(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL", Micros(s.now()), HashToken(token))
		return err
	})
}

// CountLiveSessions counts a user's sessions that have not ended (presence goes offline at zero).
func (s *Store) CountLiveSessions(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.queryRow(ctx, "SELECT COUNT(*) FROM api_tokens WHERE user_id = ? AND kind = 'session' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
		userID, Micros(s.now())).Scan(&n)
	return n, err
}

// PurgeTokens deletes session tokens expired or revoked more than `after` ago (API tokens stay,
// revoked, as a record).
func (s *Store) PurgeTokens(ctx context.Context, after time.Duration) (int64, error) {
	var n int64
	err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		cut := Micros(s.now().Add(-after))
		res, err := tx.Exec(ctx, "DELETE FROM api_tokens WHERE kind = 'session' AND ((expires_at IS NOT NULL AND expires_at < ?) OR (revoked_at IS NOT NULL AND revoked_at < ?))", cut, cut)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// RevokeUserTokens ends every token of a user at once, API tokens and sessions alike, and
// returns the user and how many tokens it ended.
func (s *Store) RevokeUserTokens(ctx context.Context, username string, audit ...AuditEntry) (User, int64, error) {
	u, err := s.UserByUsername(ctx, username)
	if err != nil {
		return u, 0, err
	}
	var n int64
	err = s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if n, err = revokeAllTokens(ctx, tx, u.ID, Micros(s.now())); err != nil {
			return err
		}
		return s.auditAll(ctx, tx, audit)
	})
	return u, n, err
}

func revokeAllTokens(ctx context.Context, tx *Tx, userID string, now int64) (int64, error) {
	res, err := tx.Exec(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", now, userID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// DisableUser stops a user: no login, every token and session ended, presence offline so
// nothing more is assigned to them, and what they held returned to the queues as going offline
// does (a call assigned to them must not be dialled to them). Disabling a disabled user changes
// nothing. The audit entries, if any, commit with the change. The assignment lock keeps an
// assignment from slipping in meanwhile.
func (s *Store) DisableUser(ctx context.Context, username string, audit ...AuditEntry) (User, error) {
	u, err := s.UserByUsername(ctx, username)
	if err != nil {
		return u, err
	}
	err = s.WriteAlone(ctx, func(ctx context.Context, tx *Tx) error {
		if err := s.LockAssignments(ctx, tx); err != nil {
			return err
		}
		now := Micros(s.now())
		if _, err := tx.Exec(ctx, "UPDATE users SET disabled_at = COALESCE(disabled_at, ?), presence = 'offline' WHERE id = ?", now, u.ID); err != nil {
			return err
		}
		if _, err := revokeAllTokens(ctx, tx, u.ID, now); err != nil {
			return err
		}
		if _, err := s.RequeueTx(ctx, tx, u.Username); err != nil {
			return err
		}
		return s.auditAll(ctx, tx, audit)
	})
	return u, err
}

// EnableUser lets a disabled user log in again (their old tokens stay revoked). The audit
// entries, if any, commit with the change.
func (s *Store) EnableUser(ctx context.Context, username string, audit ...AuditEntry) (User, error) {
	u, err := s.UserByUsername(ctx, username)
	if err != nil {
		return u, err
	}
	err = s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE users SET disabled_at = NULL WHERE id = ?", u.ID); err != nil {
			return err
		}
		return s.auditAll(ctx, tx, audit)
	})
	return u, err
}

// UserEnabled reports whether username names a user who may act now: false when the user is
// disabled, ErrNotFound when there is no such user (or it was deleted). One query: a PBX asks
// on every call it reports.
func (s *Store) UserEnabled(ctx context.Context, username string) (bool, error) {
	var at sql.NullInt64
	err := s.queryRow(ctx, "SELECT disabled_at FROM users WHERE username = ? AND deleted_at IS NULL", username).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return false, ErrNotFound
	}
	return !at.Valid, err
}

// UserDisabled reports whether a user is disabled.
func (s *Store) UserDisabled(ctx context.Context, userID string) (bool, error) {
	var at sql.NullInt64
	err := s.queryRow(ctx, "SELECT disabled_at FROM users WHERE id = ?", userID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return false, ErrNotFound
	}
	return at.Valid, err
}
