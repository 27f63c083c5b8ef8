package alertstore

import (
	"context"

	"github.com/sportello/sportello/store"
)

// ReturnRate gives back cost units that TakeRate took for work that then did not need them
// (a reservation made before the outcome was known). It cannot give more than a full bucket:
// a tat left earlier than now counts as now at the next take. A bucket never taken from is no
// error.
func (s *Store) ReturnRate(ctx context.Context, bucket string, cost int, r Rate) error {
	return s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return ReturnRateTx(ctx, tx, bucket, cost, r)
	})
}

// ReturnRateTx is ReturnRate inside a transaction: units taken and given back in one leave
// the bucket as it was.
func ReturnRateTx(ctx context.Context, tx *store.Tx, bucket string, cost int, r Rate) error {
	if r.Limit <= 0 || r.Per <= 0 || cost <= 0 {
		return nil
	}
	inc := int64(cost) * r.Per.Microseconds() / int64(r.Limit)
	_, err := tx.Exec(ctx, "UPDATE rate_limits SET tat = tat - ? WHERE bucket = ?", inc, bucket)
	return err
}

// ResetRateTx fills a bucket up again: every unit taken from it is back (a lockout forgiven).
func ResetRateTx(ctx context.Context, tx *store.Tx, bucket string) error {
	_, err := tx.Exec(ctx, "DELETE FROM rate_limits WHERE bucket = ?", bucket)
	return err
}

// PurgeSpentRates deletes the buckets whose every unit is back: a row whose theoretical
// arrival time has passed limits nothing (TakeRateTx counts from now then), and buckets named
// after what callers send (usernames and client addresses at the login) would otherwise only
// ever grow.
func (s *Store) PurgeSpentRates(ctx context.Context) (int64, error) {
	var n int64
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM rate_limits WHERE tat < ?", store.Micros(s.Now()))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
