package pages

import (
	"sync"
	"time"
)

// limiter counts failed logins per key (IP + username) in a sliding window.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	now    func() time.Time
	fails  map[string][]time.Time
}

// maxKeys bounds the memory a flood of distinct usernames can take.
const maxKeys = 100_000

func newLimiter(max int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{max: max, window: window, now: now, fails: map[string][]time.Time{}}
}

// blocked reports whether key has used up its failures, and when it may try again.
func (l *limiter) blocked(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	recent := l.recent(key)
	if len(recent) < l.max {
		return false, 0
	}
	return true, recent[0].Add(l.window).Sub(l.now())
}

func (l *limiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) >= maxKeys {
		l.sweep()
	}
	l.fails[key] = append(l.recent(key), l.now())
}

func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

// recent drops key's failures older than the window. Callers hold mu.
func (l *limiter) recent(key string) []time.Time {
	cut := l.now().Add(-l.window)
	list := l.fails[key]
	i := 0
	for i < len(list) && !list[i].After(cut) {
		i++
	}
	list = list[i:]
	if len(list) == 0 {
		delete(l.fails, key)
		return nil
	}
	l.fails[key] = list
	return list
}

// sweep forgets every expired key; if the map is still full, it forgets everything rather than
// grow without bound (a flood resets its own counters, but cannot exhaust memory).
func (l *limiter) sweep() {
	for k := range l.fails {
		l.recent(k)
	}
	if len(l.fails) >= maxKeys {
		clear(l.fails)
	}
}
