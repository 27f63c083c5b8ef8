package store

import (
	"sync"
	"time"
)

// latencySpan is how long one span of latencyWindow lasts: the window remembers between one
// and two spans, so what it reports is always fresh and never forgets a slow write at once.
const latencySpan = 250 * time.Millisecond

// latencyWindow keeps the worst latency of the main lane's writes in the current span and in
// the one before, and what it is when no bulk work runs: quiet is a moving average of the
// worst latency of spans in which no bulk write was queued.
type latencyWindow struct {
	mu        sync.Mutex
	start     time.Time // the current span's start
	cur, prev time.Duration
	bulk      bool // a bulk write was queued in the current span
	quiet     time.Duration
}

func (l *latencyWindow) rotate(now time.Time) {
	age := now.Sub(l.start)
	if age < latencySpan {
		return
	}
	if !l.bulk && l.cur > 0 {
		if l.quiet == 0 {
			l.quiet = l.cur
		} else {
			l.quiet = (3*l.quiet + l.cur) / 4
		}
	}
	if age >= 2*latencySpan {
		l.prev, l.cur, l.start = 0, 0, now
	} else {
		l.prev, l.cur, l.start = l.cur, 0, l.start.Add(latencySpan)
	}
	l.bulk = false
}

// observe records a main-lane write that took d.
func (l *latencyWindow) observe(now time.Time, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotate(now)
	l.cur = max(l.cur, d)
}

// bulkQueued records that bulk work is running: the span does not count as quiet.
func (l *latencyWindow) bulkQueued(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotate(now)
	l.bulk = true
}

// worst is the highest latency observed within the last one to two spans (0 when there was
// none), and the quiet average (0 before the first quiet span).
func (l *latencyWindow) worst(now time.Time) (recent, quiet time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotate(now)
	return max(l.cur, l.prev), l.quiet
}
