package store

import (
	"context"
	"strings"
	"time"

	"github.com/sportello/sportello/channels"
)

// AutoReplyInterval is how often one address may get an automatic answer.
const AutoReplyInterval = 24 * time.Hour

// ClaimAutoReplyRecipientTx records that address gets an automatic answer now; false when it
// got one less than AutoReplyInterval ago (on any replica: the update and the insert each
// wait for a concurrent claim of the same address and then see it).
func (s *Store) ClaimAutoReplyRecipientTx(ctx context.Context, tx *Tx, ch channels.Kind, address string) (bool, error) {
	address = strings.ToLower(address)
	now := s.now()
	res, err := tx.Exec(ctx, `UPDATE auto_reply_recipients SET last_sent_at = ? WHERE channel = ? AND address = ? AND last_sent_at <= ?`,
		Micros(now), string(ch), address, Micros(now.Add(-AutoReplyInterval)))
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	res, err = tx.Exec(ctx, `INSERT INTO auto_reply_recipients (channel, address, last_sent_at) VALUES (?, ?, ?)
		ON CONFLICT (channel, address) DO NOTHING`, string(ch), address, Micros(now))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
