package integration

import (
	"testing"
	"time"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// waitUntil polls cond every 50 ms until it holds and returns how long that took. If it still
// does not hold after within, the test fails, naming what it waited for and for how long.
// cond runs on the test goroutine, so it may call t.Fatal itself.
func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// waitsOnTheClock marks a test whose time goes mostly to waiting on the clock (a batch lease
// running out, a provider's outage, a re-check's period) and lets it run beside the other such
// tests, once every ordinary test of the package has finished (t.Parallel). Only for tests
// that assert outcomes (each subscriber once, a stream ended), never a latency, a rate or
// memory, and that neither set environment variables nor stop a peer other tests share: the
// tests that measure then never share the machine with them.
func waitsOnTheClock(t *testing.T) {
	t.Helper()
	t.Parallel()
}

// eachDialectWaitingOnTheClock is eachDialect for a test that waitsOnTheClock: the runs on
// the two databases wait side by side as well.
func eachDialectWaitingOnTheClock(t *testing.T, f func(t *testing.T, d store.Dialect)) {
	t.Helper()
	waitsOnTheClock(t)
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			f(t, d)
		})
	}
}
