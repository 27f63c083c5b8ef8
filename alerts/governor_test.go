package alerts

import (
	"testing"
	"time"
)

// fakeLoad plays the store's view of people's writes for the governor.
type fakeLoad struct {
	active        bool
	recent, quiet time.Duration
}

func (f *fakeLoad) governor() *inboundGovernor {
	return &inboundGovernor{
		active:  func() bool { return f.active },
		latency: func() (time.Duration, time.Duration) { return f.recent, f.quiet },
	}
}

func TestGovernorBacksOffWhilePeoplesWritesAreSlowAndRecovers(t *testing.T) {
	load := &fakeLoad{active: true, recent: time.Millisecond, quiet: time.Millisecond}
	g := load.governor()
	now := time.Unix(1000, 0)
	// People's writes start arriving: spaced by busyGap at once, and never less while they
	// stay fast.
	g.slot(now)
	if g.gap != busyGap {
		t.Fatalf("first gap %v, want %v", g.gap, busyGap)
	}
	for range 40 {
		now = now.Add(governorStep)
		g.slot(now)
	}
	if g.gap != busyGap {
		t.Fatalf("fast writes: gap %v, want the floor %v", g.gap, busyGap)
	}

	// Slow writes: the gap doubles each step up to maxGap.
	load.recent = 30 * time.Millisecond
	var gaps []time.Duration
	for range 10 {
		now = now.Add(governorStep)
		g.slot(now)
		gaps = append(gaps, g.gap)
	}
	if gaps[0] != 2*busyGap || gaps[len(gaps)-1] != maxGap {
		t.Fatalf("gaps while slow = %v, want %v, ... %v", gaps, 2*busyGap, maxGap)
	}
	// Slots are booked one gap apart, across callers.
	now = now.Add(governorStep)
	a, b := g.slot(now), g.slot(now)
	if b.Sub(a) != maxGap {
		t.Fatalf("two slots %v apart, want %v", b.Sub(a), maxGap)
	}

	// Fast again: the gap shrinks step by step, back to the floor.
	load.recent = time.Millisecond
	steps := 0
	for g.gap > busyGap && steps < 100 {
		now = now.Add(time.Second)
		g.slot(now)
		steps++
	}
	if g.gap != busyGap || steps < 2 {
		t.Fatalf("recovered after %d steps with gap %v, want several steps and %v", steps, g.gap, busyGap)
	}

	// No people's writes: no spacing at all, whatever the latency says.
	load.recent, load.active = time.Second, false
	now = now.Add(time.Second)
	if at := g.slot(now); !at.Equal(now) || g.gap != 0 {
		t.Fatalf("idle: slot %v after now, gap %v", at.Sub(now), g.gap)
	}
	// When people come back, the spacing starts cautious again.
	load.active = true
	g.slot(now.Add(time.Millisecond))
	if g.gap != busyGap {
		t.Fatalf("gap when people's writes resume = %v, want %v", g.gap, busyGap)
	}
}

func TestGovernorTargetFollowsQuietLatency(t *testing.T) {
	// A machine busy for other reasons: quiet writes take 10 ms, now they take 15 ms. That is
	// within twice the quiet level, so the fan-out is not slowed for nothing.
	load := &fakeLoad{active: true, recent: 15 * time.Millisecond, quiet: 10 * time.Millisecond}
	g := load.governor()
	now := time.Unix(1000, 0)
	for i := 0; i < 40; i++ {
		now = now.Add(governorStep)
		g.slot(now)
	}
	if g.gap != busyGap {
		t.Fatalf("gap %v with writes at 1.5x their quiet latency, want the floor %v", g.gap, busyGap)
	}
	load.recent = 25 * time.Millisecond
	now = now.Add(governorStep)
	g.slot(now)
	if g.gap <= busyGap {
		t.Fatalf("gap %v with writes at 2.5x their quiet latency, want more than %v", g.gap, busyGap)
	}
}
