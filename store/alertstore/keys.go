package alertstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sportello/sportello/store"
)

// APIKeyPrefix starts every comune API key, so a leaked key is recognizable in logs and scanners.
const APIKeyPrefix = "spk_"

// APIKey is a comune's key for the notification API. The key itself is shown once at creation;
// only its hash is stored.
type APIKey struct {
	ID        string
	Comune    string
	Name      string
	CreatedAt time.Time
	RevokedAt *time.Time
	// LastUsedAt is the last request the key authenticated (nil: never used); Requests counts them.
	LastUsedAt *time.Time
	Requests   int64
}

// CreateAPIKey issues a key for a comune and returns it with its record; the audit entries, if
// any, commit with it.
func (s *Store) CreateAPIKey(ctx context.Context, comune, name string, audit ...store.AuditEntry) (APIKey, string, error) {
	key := store.RandomToken(APIKeyPrefix)
	k := APIKey{ID: store.NewID(), Comune: comune, Name: name, CreatedAt: s.Now().UTC()}
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO api_keys (id, comune, name, hash, created_at) VALUES (?, ?, ?, ?, ?)",
			k.ID, k.Comune, k.Name, store.HashToken(key), store.Micros(k.CreatedAt))
		if err != nil {
			return err
		}
		return auditAll(ctx, tx, audit, k.ID)
	})
	if err != nil {
		return APIKey{}, "", err
	}
	return k, key, nil
}

const apiKeyColumns = "id, comune, name, created_at, revoked_at, last_used_at, requests"

func scanAPIKey(row interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	var created int64
	var revoked, used sql.NullInt64
	err := row.Scan(&k.ID, &k.Comune, &k.Name, &created, &revoked, &used, &k.Requests)
	if errors.Is(err, sql.ErrNoRows) {
		return k, store.ErrNotFound
	}
	k.CreatedAt, k.RevokedAt, k.LastUsedAt = store.FromMicros(created), nullMicros(revoked), nullMicros(used)
	return k, err
}

// auditAll records entries inside the key's transaction; an entry without a target names the key.
func auditAll(ctx context.Context, tx *store.Tx, entries []store.AuditEntry, keyID string) error {
	for _, e := range entries {
		if e.Target == "" {
			e.Target = keyID
		}
		if err := tx.Store().AuditTx(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

// APIKeyByID reads one key, revoked or not.
func (s *Store) APIKeyByID(ctx context.Context, id string) (APIKey, error) {
	return scanAPIKey(s.QueryRow(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE id = ?", id))
}

// CountAPIKeyUseTx records one request made with a key: its last use and its request count.
// It runs inside the request's rate-limit transaction, so counting costs no commit of its own.
func CountAPIKeyUseTx(ctx context.Context, tx *store.Tx, id string) error {
	_, err := tx.Exec(ctx, "UPDATE api_keys SET last_used_at = ?, requests = requests + 1 WHERE id = ?", store.Micros(tx.Store().Now()), id)
	return err
}

// APIKeyByToken finds the live (not revoked) key a bearer token is.
func (s *Store) APIKeyByToken(ctx context.Context, token string) (APIKey, error) {
	return scanAPIKey(s.QueryRow(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE hash = ? AND revoked_at IS NULL", store.HashToken(token)))
}

// APIKeys lists a comune's keys ("" = every comune), newest first, revoked ones included.
func (s *Store) APIKeys(ctx context.Context, comune string) ([]APIKey, error) {
	rows, err := s.Query(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE (? = '' OR comune = ?) ORDER BY created_at DESC, id DESC", comune, comune)
	return store.Collect(rows, err, scanAPIKey)
}

// RevokeAPIKey revokes a key by its id, or by the key itself. Revoking twice is not an error;
// an unknown key is store.ErrNotFound. The audit entries, if any, commit with it.
func (s *Store) RevokeAPIKey(ctx context.Context, idOrKey string, audit ...store.AuditEntry) error {
	return s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var id string
		err := tx.QueryRow(ctx, "SELECT id FROM api_keys WHERE id = ? OR hash = ?", idOrKey, store.HashToken(idOrKey)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", store.Micros(s.Now()), id); err != nil {
			return err
		}
		return auditAll(ctx, tx, audit, id)
	})
}

// Rate is a limit shared by every replica: Limit units per Per, with a burst of Limit.
type Rate struct {
	Limit int
	Per   time.Duration
}

// RateLimitedError says a bucket is spent; RetryAfter is when one more unit fits.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return "rate limited: retry in " + e.RetryAfter.Round(time.Second).String()
}

// KeyBucket names an API key's rate-limit bucket, shared by every endpoint the key may call
// (the notification API, its comune's report summary): one limit per key.
func KeyBucket(keyID string) string { return "apikey:" + keyID }

// TakeRate takes cost units from a bucket shared through the database, so a limit means the
// same behind one replica or ten. It returns a *RateLimitedError when the bucket is spent
// (and takes nothing).
func (s *Store) TakeRate(ctx context.Context, bucket string, cost int, r Rate) error {
	return s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return TakeRateTx(ctx, tx, bucket, cost, r)
	})
}

// TakeRateTx is TakeRate inside a transaction: what the units pay for commits with them, or
// neither does.
//
// It is the generic cell rate algorithm: the bucket's row keeps the theoretical arrival time
// (tat) of its next unit; a unit advances it by Per/Limit, and a request fits while the tat
// stays within Per of now. One conditional upsert decides, so concurrent replicas serialise on
// the row and never both take the last unit.
func TakeRateTx(ctx context.Context, tx *store.Tx, bucket string, cost int, r Rate) error {
	if r.Limit <= 0 || r.Per <= 0 || cost <= 0 {
		return nil
	}
	now := store.Micros(tx.Store().Now())
	inc := int64(cost) * r.Per.Microseconds() / int64(r.Limit)
	per := r.Per.Microseconds()
	res, err := tx.Exec(ctx, `INSERT INTO rate_limits (bucket, tat) VALUES (?, ?)
		ON CONFLICT (bucket) DO UPDATE SET tat = (CASE WHEN rate_limits.tat > ? THEN rate_limits.tat ELSE ? END) + ?
		WHERE (CASE WHEN rate_limits.tat > ? THEN rate_limits.tat ELSE ? END) + ? <= ?`,
		bucket, now+inc, now, now, inc, now, now, inc, now+per)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var tat int64
	if err := tx.QueryRow(ctx, "SELECT tat FROM rate_limits WHERE bucket = ?", bucket).Scan(&tat); err != nil {
		return err
	}
	wait := max(tat, now) + inc - per - now
	return &RateLimitedError{RetryAfter: time.Duration(max(wait, 1)) * time.Microsecond}
}
