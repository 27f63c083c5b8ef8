package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

func TestSlidingWindowRefusesOnceFullAndReopensAsHitsAge(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	w := newSlidingWindow(3, 5*time.Minute, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if _, _, ok := w.take("ip|anna"); !ok {
			t.Fatalf("refused after %d hits", i)
		}
		now = now.Add(time.Minute)
	}
	if _, wait, ok := w.take("ip|anna"); ok || wait != 2*time.Minute {
		t.Fatalf("after 3 hits: taken %v, wait %v (want refused, 2m)", ok, wait)
	}
	if _, _, ok := w.take("ip|bruno"); !ok {
		t.Fatal("another key is refused")
	}
	now = now.Add(2*time.Minute + time.Second)
	at, _, ok := w.take("ip|anna")
	if !ok {
		t.Fatal("the oldest hit left the window but the key is still refused")
	}
	w.giveBack("ip|anna", at)
	if got := len(w.hits["ip|anna"]); got != 2 {
		t.Fatalf("after giving one back, %d hits are counted; want 2", got)
	}
	w.forget("ip|anna")
	if _, ok := w.hits["ip|anna"]; ok {
		t.Fatal("forget left the key's hits")
	}
}

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
	ctx := context.Background()
	a := NewPasswordAttempts(storetest.Open(t, store.SQLite), AttemptLimits{PerAddressUser: 3, PerUser: 3})
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
	ctx := context.Background()
	a := NewPasswordAttempts(storetest.Open(t, store.SQLite), AttemptLimits{PerAddressUser: 1, PerAddress: 1, PerUser: 1})
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
