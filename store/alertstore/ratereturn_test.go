package alertstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/store/storetest"
)

// A unit given back is a unit that can be taken again, and giving back more than was taken
// never lifts the bucket above its burst.
func TestReturnRateGivesBackWhatWasTakenAndNoMore(t *testing.T) {
	ctx := context.Background()
	s := alertstore.New(storetest.Open(t, store.SQLite))
	rate := alertstore.Rate{Limit: 2, Per: time.Hour}
	take := func() error { return s.TakeRate(ctx, "b", 1, rate) }
	if err := s.ReturnRate(ctx, "never-taken", 1, rate); err != nil {
		t.Fatalf("returning to an unknown bucket: %v", err)
	}
	for i := 0; i < 2; i++ {
		if err := take(); err != nil {
			t.Fatalf("take %d: %v", i, err)
		}
	}
	var rl *alertstore.RateLimitedError
	if err := take(); !errors.As(err, &rl) {
		t.Fatalf("a spent bucket answered %v", err)
	}
	if err := s.ReturnRate(ctx, "b", 1, rate); err != nil {
		t.Fatal(err)
	}
	if err := take(); err != nil {
		t.Fatalf("the unit given back cannot be taken: %v", err)
	}
	for i := 0; i < 10; i++ {
		if err := s.ReturnRate(ctx, "b", 1, rate); err != nil {
			t.Fatal(err)
		}
	}
	taken := 0
	for take() == nil {
		taken++
	}
	if taken != 2 {
		t.Fatalf("after returning too much, %d units fit; the burst is 2", taken)
	}
}

// A bucket whose units are all back is deleted, and deleting it changes no limit: one still
// spending keeps its row and its count.
func TestPurgeSpentRatesKeepsTheBucketsThatStillLimit(t *testing.T) {
	ctx := context.Background()
	clock := &storetest.Clock{}
	s := alertstore.New(storetest.OpenWith(t, store.SQLite, store.Options{Now: clock.Now}))
	rate := alertstore.Rate{Limit: 2, Per: time.Hour}
	for _, b := range []string{"old", "busy", "busy"} {
		if err := s.TakeRate(ctx, b, 1, rate); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(31 * time.Minute) // "old" (one unit) is whole again; "busy" (two) is not
	n, err := s.PurgeSpentRates(ctx)
	if err != nil || n != 1 {
		t.Fatalf("purged %d %v, want the one spent bucket", n, err)
	}
	// "busy" still holds: one unit back after 30 of its 60 minutes, the second not yet.
	if err := s.TakeRate(ctx, "busy", 1, rate); err != nil {
		t.Fatal(err)
	}
	var rl *alertstore.RateLimitedError
	if err := s.TakeRate(ctx, "busy", 1, rate); !errors.As(err, &rl) {
		t.Fatalf("the purge forgot a bucket still limiting: %v", err)
	}
}

// A unit taken and given back in one transaction leaves the bucket as it was, and a reset
// bucket takes its whole burst again; neither minds a bucket that was never taken from.
func TestReturnRateTxAndResetRateTx(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := alertstore.New(st)
		rate := alertstore.Rate{Limit: 2, Per: time.Hour}
		take := func() error { return s.TakeRate(ctx, "b", 1, rate) }
		if err := st.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			if err := alertstore.ResetRateTx(ctx, tx, "never-taken"); err != nil {
				return err
			}
			if err := alertstore.TakeRateTx(ctx, tx, "b", 1, rate); err != nil {
				return err
			}
			return alertstore.ReturnRateTx(ctx, tx, "b", 1, rate)
		}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if err := take(); err != nil {
				t.Fatalf("take %d after a unit taken and given back: %v", i, err)
			}
		}
		var rl *alertstore.RateLimitedError
		if err := take(); !errors.As(err, &rl) {
			t.Fatalf("a spent bucket answered %v", err)
		}
		if err := st.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			return alertstore.ResetRateTx(ctx, tx, "b")
		}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if err := take(); err != nil {
				t.Fatalf("take %d after a reset: %v", i, err)
			}
		}
	})
}
