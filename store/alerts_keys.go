package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
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
}

// CreateAPIKey issues a key for a comune and returns it with its record.
func (s *Store) CreateAPIKey(ctx context.Context, comune, name string) (APIKey, string, error) {
	key := RandomToken(APIKeyPrefix)
	k := APIKey{ID: NewID(), Comune: comune, Name: name, CreatedAt: s.now().UTC()}
	err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO api_keys (id, comune, name, hash, created_at) VALUES (?, ?, ?, ?, ?)",
			k.ID, k.Comune, k.Name, HashToken(key), Micros(k.CreatedAt))
		return err
	})
	if err != nil {
		return APIKey{}, "", err
	}
	return k, key, nil
}

const apiKeyColumns = "id, comune, name, created_at, revoked_at"

func scanAPIKey(row interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	var created int64
	var revoked sql.NullInt64
	err := row.Scan(&k.ID, &k.Comune, &k.Name, &created, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return k, ErrNotFound
	}
	k.CreatedAt, k.RevokedAt = FromMicros(created), nullMicros(revoked)
	return k, err
}

// APIKeyByToken finds the live (not revoked) key a bearer token is.
func (s *Store) APIKeyByToken(ctx context.Context, token string) (APIKey, error) {
	return scanAPIKey(s.queryRow(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE hash = ? AND revoked_at IS NULL", HashToken(token)))
}

// APIKeys lists a comune's keys ("" = every comune), newest first, revoked ones included.
func (s *Store) APIKeys(ctx context.Context, comune string) ([]APIKey, error) {
	rows, err := s.query(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE (? = '' OR comune = ?) ORDER BY created_at DESC, id DESC", comune, comune)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey revokes a key by its id, or by the key itself. Revoking twice is not an error;
// an unknown key is ErrNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, idOrKey string) error {
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		var id string
		err := tx.QueryRow(ctx, "SELECT id FROM api_keys WHERE id = ? OR hash = ?", idOrKey, HashToken(idOrKey)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", Micros(s.now()), id)
		return err
	})
}
