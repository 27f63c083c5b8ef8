package alerts

import (
	"sync"
	"time"
)

// inboundGovernor spaces the fan-out's work (its sends and its delivery callbacks) so that
// people's writes stay fast. Capping the sends in flight (easeForInbound) was not enough: on
// two cores an inbound SMS's p99 stayed at 125-136 ms during a 100,000-recipient fan-out
// against 2.5-3 ms quiet (BENCHMARKS.md, "Priority lanes"). So the fan-out watches what it
// must protect, the latency of the main lane's writes (store.MainWriteLatency), and backs off
// multiplicatively while it exceeds its target, and speeds up again slowly while it is well
// under. The target is relative to the latency of quiet times, so that a machine busy for
// other reasons does not hold the fan-out at its slowest for nothing.
type inboundGovernor struct {
	// active reports whether people's writes are arriving; latency how long they take now
	// and in quiet times.
	active  func() bool
	latency func() (recent, quiet time.Duration)

	mu       sync.Mutex
	gap      time.Duration // the time between two starts of bulk work in this process (0 while nobody writes)
	next     time.Time     // when the next may start
	adjusted time.Time     // when gap last changed
	busy     bool          // people's writes were arriving at the last slot
}

const (
	// governorFloor is the lowest target: a few idle group commits (about 1 ms each on
	// SQLite here). Above it the target is governorQuietFactor times the quiet latency.
	governorFloor       = 4 * time.Millisecond
	governorQuietFactor = 2
	// governorStep is how often gap may change: a fresh latency reading needs some writes.
	governorStep = 50 * time.Millisecond
	// busyGap and maxGap bound the spacing while people write: bulk work (sends and delivery
	// callbacks alike) starts at most every busyGap, and at least every maxGap, so a fan-out
	// slows down for people but never stops for them (it ran at 290-360 messages a second in
	// one process so spaced). The floor is a budget, not a reading: with the spacing free to
	// reach zero, an inbound SMS's p99 during a fan-out rose with the fan-out's speed whatever
	// the latency readings did (BENCHMARKS.md, "Priority lanes, fifth pass"). It is also where
	// the spacing starts when people's writes start arriving, since the first reading comes
	// only after a step.
	busyGap = 2 * time.Millisecond
	maxGap  = 5 * time.Millisecond
)

func (g *inboundGovernor) target(quiet time.Duration) time.Duration {
	return max(governorFloor, governorQuietFactor*quiet)
}

// slot returns when the next piece of bulk work may start, and books it.
func (g *inboundGovernor) slot(now time.Time) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.active() {
		g.gap, g.busy = 0, false
		return now
	}
	if !g.busy {
		g.gap, g.busy, g.adjusted = busyGap, true, now
	}
	if now.Sub(g.adjusted) >= governorStep {
		recent, quiet := g.latency()
		switch target := g.target(quiet); {
		case recent > target:
			g.gap = min(2*g.gap, maxGap)
			g.adjusted = now
		case recent < target/2 && g.gap > busyGap:
			g.gap = max(g.gap*3/4, busyGap)
			g.adjusted = now
		}
	}
	at := now
	if g.next.After(now) {
		at = g.next
	}
	g.next = at.Add(g.gap)
	return at
}

// wait sleeps until the next slot, never past deadline.
func (g *inboundGovernor) wait(deadline time.Time) {
	at := g.slot(time.Now())
	if at.After(deadline) {
		at = deadline
	}
	if d := time.Until(at); d > 0 {
		time.Sleep(d)
	}
}
