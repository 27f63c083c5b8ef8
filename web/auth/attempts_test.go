package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

func newAttempts(t *testing.T, s *store.Store) *PasswordAttempts {
	t.Helper()
	if s == nil {
		s = storetest.Open(t, store.SQLite)
	}
	return NewPasswordAttempts(s, AttemptLimits{})
}

func reserveAll(t *testing.T, a *PasswordAttempts, n int, client, username string) (allowed int) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := a.Reserve(context.Background(), client, username)
			var spent *TooManyAttemptsError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				allowed++
			case errors.As(err, &spent) && spent.RetryAfter > 0:
			default:
				t.Errorf("reserve: %v", err)
			}
		}()
	}
	wg.Wait()
	return allowed
}

// The race the audit found: checked first and counted after, parallel guesses all passed.
func TestReserveLetsNoMoreParallelGuessesThroughThanTheLimit(t *testing.T) {
	a := newAttempts(t, nil)
	if got := reserveAll(t, a, 40, "203.0.113.9", "victim"); got != DefaultAttemptsPerAddressUser {
		t.Fatalf("%d of 40 parallel guesses were allowed; the limit is %d", got, DefaultAttemptsPerAddressUser)
	}
}

func TestReserveCountsAnIPv6Slash64AsOneAddress(t *testing.T) {
	a := newAttempts(t, nil)
	for i := 0; i < DefaultAttemptsPerAddressUser; i++ {
		if _, err := a.Reserve(context.Background(), fmt.Sprintf("2001:db8:7:7::%x", i+1), "victim"); err != nil {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	var spent *TooManyAttemptsError
	if _, err := a.Reserve(context.Background(), "2001:db8:7:7:dead:beef::1", "victim"); !errors.As(err, &spent) {
		t.Fatalf("a new address in the same /64 got another guess: %v", err)
	}
	if _, err := a.Reserve(context.Background(), "2001:db8:7:8::1", "victim"); err != nil {
		t.Fatalf("another /64 was refused: %v", err)
	}
}

func TestReserveCountsUsernamesWhateverTheirCase(t *testing.T) {
	a := newAttempts(t, nil)
	for i := 0; i < DefaultAttemptsPerAddressUser; i++ {
		if _, err := a.Reserve(context.Background(), "192.0.2.1", "Victim"); err != nil {
			t.Fatal(err)
		}
	}
	var spent *TooManyAttemptsError
	if _, err := a.Reserve(context.Background(), "192.0.2.1", "VICTIM"); !errors.As(err, &spent) {
		t.Fatalf("a change of case got another guess: %v", err)
	}
}

// The per-user count is in the database: two processes (two PasswordAttempts over one
// database) and many addresses together get PerUser guesses, not more.
func TestPerUserLimitHoldsAcrossAddressesAndReplicas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		replicas := []*PasswordAttempts{newAttempts(t, s), newAttempts(t, s)}
		allowed := 0
		for i := 0; i < 3*DefaultAttemptsPerUser; i++ {
			if _, err := replicas[i%2].Reserve(context.Background(), fmt.Sprintf("198.51.100.%d", i+1), "victim"); err == nil {
				allowed++
			}
		}
		if allowed != DefaultAttemptsPerUser {
			t.Fatalf("%d guesses from %d addresses over two replicas; the per-user limit is %d", allowed,
				3*DefaultAttemptsPerUser, DefaultAttemptsPerUser)
		}
		if _, err := replicas[0].Reserve(context.Background(), "198.51.100.200", "someone-else"); err != nil {
			t.Fatalf("another user was refused: %v", err)
		}
	})
}

func TestSucceededForgivesTheAddressAndGivesTheSharedGuessBack(t *testing.T) {
	storetest.Each(t, testSucceededForgivesTheAddressAndGivesTheSharedGuessBack)
}

func testSucceededForgivesTheAddressAndGivesTheSharedGuessBack(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewPasswordAttempts(s, AttemptLimits{PerAddressUser: 3, PerUser: 3})
	for i := 0; i < 2; i++ {
		if _, err := a.Reserve(ctx, "192.0.2.1", "anna"); err != nil {
			t.Fatal(err)
		}
	}
	right, err := a.Reserve(ctx, "192.0.2.1", "anna")
	if err != nil {
		t.Fatal(err)
	}
	if err := right.Succeeded(ctx); err != nil {
		t.Fatal(err)
	}
	// The address's failures at anna are forgiven; of the shared three, the two wrong guesses
	// still stand, the right one came back.
	if _, err := a.Reserve(ctx, "192.0.2.1", "anna"); err != nil {
		t.Fatalf("after a right password: %v", err)
	}
	var spent *TooManyAttemptsError
	if _, err := a.Reserve(ctx, "192.0.2.2", "anna"); !errors.As(err, &spent) {
		t.Fatalf("the wrong guesses were forgiven across addresses too: %v", err)
	}
}

func TestVoidGivesTheGuessBackToEveryCount(t *testing.T) {
	storetest.Each(t, testVoidGivesTheGuessBackToEveryCount)
}

func testVoidGivesTheGuessBackToEveryCount(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewPasswordAttempts(s, AttemptLimits{PerAddressUser: 1, PerAddress: 1, PerUser: 1})
	for i := 0; i < 3; i++ {
		t1, err := a.Reserve(ctx, "192.0.2.1", "anna")
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if err := t1.Void(ctx); err != nil {
			t.Fatal(err)
		}
		if err := t1.Void(ctx); err != nil { // twice gives back nothing more
			t.Fatal(err)
		}
	}
	kept, err := a.Reserve(ctx, "192.0.2.1", "anna")
	if err != nil || kept == nil {
		t.Fatalf("after voided guesses: %v", err)
	}
	var spent *TooManyAttemptsError
	if _, err := a.Reserve(ctx, "192.0.2.1", "anna"); !errors.As(err, &spent) {
		t.Fatalf("a kept guess was not counted: %v", err)
	}
}

// refused reserves a guess and reports whether the limit refused it, failing the test on any
// other error.
func refused(t *testing.T, a *PasswordAttempts, client, username string) bool {
	t.Helper()
	_, err := a.Reserve(context.Background(), client, username)
	var spent *TooManyAttemptsError
	if errors.As(err, &spent) {
		if spent.RetryAfter <= 0 {
			t.Fatalf("refused with Retry-After %v", spent.RetryAfter)
		}
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return false
}

// Two replicas (two stores on one database): an address's guesses at a user, and at any
// usernames, are counted once for both.
func TestPerAddressLimitsHoldAcrossReplicas(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			db := storetest.NewShared(t, d)
			replicas := []*PasswordAttempts{newAttempts(t, db.Open(t)), newAttempts(t, db.Open(t))}
			for i := 0; i < DefaultAttemptsPerAddressUser; i++ {
				if refused(t, replicas[i%2], "192.0.2.1", "anna") {
					t.Fatalf("guess %d at anna refused", i)
				}
			}
			for i, a := range replicas {
				if !refused(t, a, "192.0.2.1", "anna") {
					t.Fatalf("replica %d took a sixth guess at anna from one address", i)
				}
			}
			for i := 0; i < DefaultAttemptsPerAddress-DefaultAttemptsPerAddressUser; i++ {
				if refused(t, replicas[i%2], "192.0.2.1", fmt.Sprintf("user-%d", i)) {
					t.Fatalf("guess %d at another username refused", i)
				}
			}
			for i, a := range replicas {
				if !refused(t, a, "192.0.2.1", "one-more-username") {
					t.Fatalf("replica %d took guess %d from one address", i, DefaultAttemptsPerAddress+1)
				}
			}
			if refused(t, replicas[1], "192.0.2.2", "anna") {
				t.Fatal("another address was refused")
			}
		})
	}
}

// Guesses sent together to two replicas get the limit between them, not more.
func TestParallelGuessesOverReplicasStopAtTheLimit(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			db := storetest.NewShared(t, d)
			replicas := []*PasswordAttempts{newAttempts(t, db.Open(t)), newAttempts(t, db.Open(t))}
			var allowed atomic.Int64
			var wg sync.WaitGroup
			for _, a := range replicas {
				wg.Add(1)
				go func() {
					defer wg.Done()
					allowed.Add(int64(reserveAll(t, a, 20, "203.0.113.9", "victim")))
				}()
			}
			wg.Wait()
			if got := allowed.Load(); got != DefaultAttemptsPerAddressUser {
				t.Fatalf("%d of 40 parallel guesses over two replicas were allowed; the limit is %d", got, DefaultAttemptsPerAddressUser)
			}
		})
	}
}

// Once the database has said an address is spent, its further guesses are refused in the
// process: a flood costs no writes. The store is closed to prove it: a guess that reached it
// would fail with the closed store's error, not the limit's.
func TestASpentAddressIsRefusedWithoutTheDatabase(t *testing.T) {
	ctx := context.Background()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			s := storetest.NewShared(t, d).OpenUnclosed(t)
			a := newAttempts(t, s)
			for i := 0; i < DefaultAttemptsPerAddress; i++ {
				if refused(t, a, "2001:db8:1:2::7", fmt.Sprintf("user-%d", i)) {
					t.Fatalf("guess %d refused", i)
				}
			}
			if !refused(t, a, "2001:db8:1:2::7", "one-more") {
				t.Fatal("a guess over the address's limit was taken")
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 100; i++ {
				_, err := a.Reserve(ctx, fmt.Sprintf("2001:db8:1:2::%x", i+100), fmt.Sprintf("flood-%d", i))
				var spent *TooManyAttemptsError
				if !errors.As(err, &spent) {
					t.Fatalf("flood guess %d from the spent /64: %v", i, err)
				}
			}
		})
	}
}

// rate_limits is kept out of erasure and export: its buckets name no address and no username.
func TestBucketsHoldNoAddressOrUsername(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		a := newAttempts(t, s)
		for _, client := range []string{"198.51.100.23", "2001:db8:9:9::1"} {
			if refused(t, a, client, "Mario.Rossi") {
				t.Fatal("refused")
			}
		}
		rows, err := s.DB().QueryContext(ctx, "SELECT bucket FROM rate_limits")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = rows.Close() }()
		n := 0
		for rows.Next() {
			var b string
			if err := rows.Scan(&b); err != nil {
				t.Fatal(err)
			}
			n++
			for _, secret := range []string{"198.51.100", "2001:db8", "mario", "rossi"} {
				if strings.Contains(strings.ToLower(b), secret) {
					t.Errorf("bucket %q holds %q", b, secret)
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n != 5 { // two per address (with the user, alone), one for the user
			t.Fatalf("%d buckets, want 5", n)
		}
	})
}

// A spent address is told when to come back, and is let in then: the shared bucket takes one
// more guess each window divided by the limit.
func TestASpentAddressTakesOneMoreGuessAfterRetryAfter(t *testing.T) {
	ctx := context.Background()
	clock := &storetest.Clock{}
	storetest.EachWith(t, store.Options{Now: clock.Now}, func(t *testing.T, s *store.Store) {
		a := newAttempts(t, s)
		for i := 0; i < DefaultAttemptsPerAddressUser; i++ {
			if refused(t, a, "192.0.2.1", "anna") {
				t.Fatalf("guess %d refused", i)
			}
		}
		_, err := a.Reserve(ctx, "192.0.2.1", "anna")
		var spent *TooManyAttemptsError
		if !errors.As(err, &spent) {
			t.Fatalf("a sixth guess: %v", err)
		}
		share := DefaultAttemptWindow / DefaultAttemptsPerAddressUser
		if spent.RetryAfter > share {
			t.Fatalf("Retry-After %v; one guess comes back every %v", spent.RetryAfter, share)
		}
		clock.Advance(spent.RetryAfter)
		if refused(t, a, "192.0.2.1", "anna") {
			t.Fatal("refused after Retry-After")
		}
		if !refused(t, a, "192.0.2.1", "anna") {
			t.Fatal("two guesses taken after Retry-After; one came back")
		}
	})
}
