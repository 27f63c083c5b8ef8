package auth

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestSpentBucketsRepeatARefusalUntilItsMomentOnly(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	s := newSpentBuckets(func() time.Time { return now })
	if _, spent := s.check([]string{"a"}); spent {
		t.Fatal("an unknown bucket is spent")
	}
	s.remember("b", time.Minute)
	if wait, spent := s.check([]string{"a", "b"}); !spent || wait != time.Minute {
		t.Fatalf("after a refusal: spent %v, wait %v (want true, 1m)", spent, wait)
	}
	now = now.Add(time.Minute)
	if _, spent := s.check([]string{"b"}); spent {
		t.Fatal("the refusal outlived the moment the database named")
	}
	if _, ok := s.until["b"]; ok {
		t.Fatal("a passed refusal is still held")
	}
	s.remember("c", time.Minute)
	s.forget("c")
	if _, spent := s.check([]string{"c"}); spent {
		t.Fatal("a forgotten bucket is still spent")
	}
}

func TestSpentBucketsStayBounded(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	s := newSpentBuckets(func() time.Time { return now })
	for i := 0; i < maxSpentBuckets+10; i++ {
		s.remember(fmt.Sprint(i), time.Hour)
	}
	if n := len(s.until); n > maxSpentBuckets {
		t.Fatalf("%d buckets held; the bound is %d", n, maxSpentBuckets)
	}
}

func TestKeyedLocksLetOneHolderPerKey(t *testing.T) {
	k := newKeyedLocks()
	ctx := context.Background()
	unlock, err := k.lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	other, err := k.lock(ctx, "b")
	if err != nil {
		t.Fatalf("another key waited: %v", err)
	}
	other()
	waiting, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := k.lock(waiting, "a"); err == nil {
		t.Fatal("two holders of one key")
	}
	unlock()
	again, err := k.lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	again()
	if n := len(k.locks); n != 0 {
		t.Fatalf("%d locks kept with nobody holding them", n)
	}
}
