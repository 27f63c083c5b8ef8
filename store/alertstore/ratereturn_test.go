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
