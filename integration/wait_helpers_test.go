package integration

import (
	"testing"
	"time"
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
