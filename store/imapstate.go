package store

import (
	"context"
	"database/sql"
	"errors"
)

// IMAPState is where the poller of mailbox stands: the UIDVALIDITY it last saw and the highest
// UID it has stored. A mailbox never seen is (0, 0, nil).
func (s *Store) IMAPState(ctx context.Context, mailbox string) (uidValidity, lastUID uint32, err error) {
	var v, u int64
	err = s.queryRow(ctx, "SELECT uid_validity, last_uid FROM imap_state WHERE mailbox = ?", mailbox).Scan(&v, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	return uint32(v), uint32(u), nil
}

// SaveIMAPState records the poller's progress. Under the same UIDVALIDITY the last UID only
// moves forward (two replicas polling one mailbox cannot rewind each other); a different
// UIDVALIDITY replaces both.
func (s *Store) SaveIMAPState(ctx context.Context, mailbox string, uidValidity, lastUID uint32) error {
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO imap_state (mailbox, uid_validity, last_uid, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (mailbox) DO UPDATE SET
			last_uid = CASE WHEN imap_state.uid_validity = excluded.uid_validity AND imap_state.last_uid > excluded.last_uid
				THEN imap_state.last_uid ELSE excluded.last_uid END,
			uid_validity = excluded.uid_validity, updated_at = excluded.updated_at`,
			mailbox, int64(uidValidity), int64(lastUID), Micros(s.now()))
		return err
	})
}
