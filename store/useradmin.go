package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// Audit actions of the administration of people, tokens and keys.
const (
	AuditUserCreate     = "user_create"
	AuditUserUpdate     = "user_update"
	AuditUserDisable    = "user_disable"
	AuditUserEnable     = "user_enable"
	AuditPasswordReset  = "password_reset"
	AuditPasswordChange = "password_change"
	AuditPasswordLink   = "password_link"
	AuditTokenCreate    = "token_create"
	AuditTokenRevoke    = "token_revoke"
	AuditAPIKeyCreate   = "apikey_create"
	AuditAPIKeyRevoke   = "apikey_revoke"
)

// AuditPasswordChangeFailed: a wrong current password given to change one's own. The change is
// refused; the entry is the trace a guesser holding someone's session or token leaves.
const AuditPasswordChangeFailed = "password_change_failed"

// auditAll records entries inside a write transaction.
func (s *Store) auditAll(ctx context.Context, tx *Tx, entries []AuditEntry) error {
	for _, e := range entries {
		if err := s.AuditTx(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

// UserRecord is a user as the people pages show them: the user with where they answer calls,
// whether they are disabled, their own preferences, and how many contacts they hold now.
type UserRecord struct {
	User
	Phone           string
	Disabled        bool
	Lang            string
	DefaultPresence string
	Open            int
}

const userRecordQuery = `SELECT u.id, u.username, u.name, u.role, u.password_hash, u.comuni, u.categories, u.capacity, u.presence, u.created_at,
	u.phone, u.disabled_at, u.lang, u.default_presence,
	(SELECT COUNT(*) FROM contacts c WHERE c.assignee = u.username AND c.status = 'assigned')
	FROM users u WHERE u.deleted_at IS NULL`

func scanUserRecord(row interface{ Scan(...any) error }) (UserRecord, error) {
	var r UserRecord
	var comuni, cats string
	var created int64
	var disabled sql.NullInt64
	err := row.Scan(&r.ID, &r.Username, &r.Name, &r.Role, &r.PasswordHash, &comuni, &cats, &r.Capacity, &r.Presence, &created,
		&r.Phone, &disabled, &r.Lang, &r.DefaultPresence, &r.Open)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	r.Comuni, r.Categories, r.CreatedAt, r.Disabled = splitList(comuni), splitList(cats), FromMicros(created), disabled.Valid
	return r, err
}

// UserRecords lists every user who has not been deleted, by username.
func (s *Store) UserRecords(ctx context.Context) ([]UserRecord, error) {
	rows, err := s.query(ctx, userRecordQuery+" ORDER BY u.username")
	return Collect(rows, err, scanUserRecord)
}

// UserRecordOf reads one user who has not been deleted.
func (s *Store) UserRecordOf(ctx context.Context, username string) (UserRecord, error) {
	return scanUserRecord(s.queryRow(ctx, userRecordQuery+" AND u.username = ?", username))
}

// UserChange is what an edit changes; nil fields stay as they are.
type UserChange struct {
	Name       *string
	Role       *string
	Comuni     *[]string
	Categories *[]string
	Capacity   *int
	// Phone is where the user answers calls ("" for the browser softphone).
	Phone           *string
	Lang            *string
	DefaultPresence *string
}

// Empty reports whether the change changes nothing.
func (c UserChange) Empty() bool {
	return c.Name == nil && c.Role == nil && c.Comuni == nil && c.Categories == nil && c.Capacity == nil &&
		c.Phone == nil && c.Lang == nil && c.DefaultPresence == nil
}

// UpdateUser applies a change to a live user; the audit entries, if any, commit with it.
func (s *Store) UpdateUser(ctx context.Context, username string, c UserChange, audit ...AuditEntry) error {
	var sets []string
	var args []any
	set := func(col string, v any) {
		sets = append(sets, col+" = ?")
		args = append(args, v)
	}
	if c.Name != nil {
		set("name", *c.Name)
	}
	if c.Role != nil {
		set("role", *c.Role)
	}
	if c.Comuni != nil {
		set("comuni", strings.Join(*c.Comuni, ","))
	}
	if c.Categories != nil {
		set("categories", strings.Join(*c.Categories, ","))
	}
	if c.Capacity != nil {
		set("capacity", *c.Capacity)
	}
	if c.Phone != nil {
		set("phone", *c.Phone)
	}
	if c.Lang != nil {
		set("lang", *c.Lang)
	}
	if c.DefaultPresence != nil {
		set("default_presence", *c.DefaultPresence)
	}
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if len(sets) > 0 {
			res, err := tx.Exec(ctx, "UPDATE users SET "+strings.Join(sets, ", ")+" WHERE username = ? AND deleted_at IS NULL",
				append(args, username)...)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return ErrNotFound
			}
		}
		return s.auditAll(ctx, tx, audit)
	})
}

// ChangePassword replaces a user's password hash and ends every session of theirs except the
// one whose token is keep ("" ends them all), and every set-password link, in one transaction
// with the audit entries. API tokens stay: scripts keep working. It returns how many sessions
// and links it ended.
func (s *Store) ChangePassword(ctx context.Context, userID, hash, keep string, audit ...AuditEntry) (int64, error) {
	var n int64
	err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.Exec(ctx, "UPDATE users SET password_hash = ? WHERE id = ? AND deleted_at IS NULL", hash, userID)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return ErrNotFound
		}
		keepHash := ""
		if keep != "" {
			keepHash = HashToken(keep)
		}
		res, err = tx.Exec(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND kind IN ('session', 'password_link') AND revoked_at IS NULL AND hash <> ?",
			Micros(s.now()), userID, keepHash)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		return s.auditAll(ctx, tx, audit)
	})
	return n, err
}

// CreatePasswordLink issues a one-time set-password link token for a user, ending their earlier
// links, in one transaction with the audit entries.
func (s *Store) CreatePasswordLink(ctx context.Context, userID string, ttl time.Duration, audit ...AuditEntry) (string, error) {
	token := RandomToken("")
	err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		now := s.now()
		if _, err := tx.Exec(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND kind = 'password_link' AND revoked_at IS NULL",
			Micros(now), userID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO api_tokens (hash, user_id, kind, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
			HashToken(token), userID, TokenPasswordLink, Micros(now), Micros(now.Add(ttl))); err != nil {
			return err
		}
		return s.auditAll(ctx, tx, audit)
	})
	return token, err
}

// TokenIDLength is how many hex digits of a token's hash name it in lists (its id).
const TokenIDLength = 16

// TokenInfo describes a token without its secret. ID is the start of its hash.
type TokenInfo struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Kind      string     `json:"kind"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// Live reports whether the token still works (at now).
func (t TokenInfo) Live(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || t.ExpiresAt.After(now))
}

// UserTokens lists a user's tokens of a kind, newest first, revoked and expired ones included.
func (s *Store) UserTokens(ctx context.Context, userID, kind string) ([]TokenInfo, error) {
	rows, err := s.query(ctx, "SELECT hash, name, kind, created_at, expires_at, revoked_at FROM api_tokens WHERE user_id = ? AND kind = ? ORDER BY created_at DESC, hash",
		userID, kind)
	return Collect(rows, err, func(row interface{ Scan(...any) error }) (TokenInfo, error) {
		var t TokenInfo
		var hash string
		var created int64
		var expires, revoked sql.NullInt64
		err := row.Scan(&hash, &t.Name, &t.Kind, &created, &expires, &revoked)
		t.ID, t.CreatedAt = hash[:min(len(hash), TokenIDLength)], FromMicros(created)
		if expires.Valid {
			e := FromMicros(expires.Int64)
			t.ExpiresAt = &e
		}
		if revoked.Valid {
			r := FromMicros(revoked.Int64)
			t.RevokedAt = &r
		}
		return t, err
	})
}

// RevokeUserToken revokes one API token of a user by its id; a token of someone else, or none,
// is ErrNotFound. Revoking twice is not an error. The audit entries commit with it.
func (s *Store) RevokeUserToken(ctx context.Context, userID, id string, audit ...AuditEntry) error {
	if len(id) != TokenIDLength {
		return ErrNotFound
	}
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		var hash string
		var revoked sql.NullInt64
		err := tx.QueryRow(ctx, "SELECT hash, revoked_at FROM api_tokens WHERE user_id = ? AND kind = 'api' AND substr(hash, 1, 16) = ?", userID, id).Scan(&hash, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil || revoked.Valid {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE hash = ?", Micros(s.now()), hash); err != nil {
			return err
		}
		return s.auditAll(ctx, tx, audit)
	})
}
