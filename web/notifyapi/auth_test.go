package notifyapi

import (
	"testing"
	"time"
)

func TestLimiterPerKey(t *testing.T) {
	l := newLimiter(60) // one a second, a minute's burst
	now := time.Unix(1000, 0)
	for i := 0; i < 60; i++ {
		if ok, _ := l.allow("a", now); !ok {
			t.Fatalf("request %d refused", i)
		}
	}
	ok, retry := l.allow("a", now)
	if ok || retry <= 0 || retry > time.Second {
		t.Fatalf("61st: %v retry %v", ok, retry)
	}
	if ok, _ := l.allow("b", now); !ok {
		t.Fatal("another key was limited")
	}
	if ok, _ := l.allow("a", now.Add(1100*time.Millisecond)); !ok {
		t.Fatal("no refill after a second")
	}
}
