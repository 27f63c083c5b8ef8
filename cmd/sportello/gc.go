package main

import "runtime/debug"

// serve's garbage collector, when the environment does not set GOGC or GOMEMLIMIT. Under Go's
// default (collect when the heap doubles) allocating and collecting took 18 % of the gateway's
// CPU under SMS load (mallocgc 10 %, the mark workers 8 %): the live heap is small (about
// 7 MB) and requests allocate fast. Collecting at five times the live heap, with a soft limit
// that makes the collector work harder as the process nears it, measured against Go's default
// with the binaries alternating: SMS webhooks +5 % (CPU a request -8 %), a 100,000-recipient
// fan-out +9-12 %, at a peak of 185-189 MB, a million recipients included (BENCHMARKS.md,
// issue 14). Without the limit the same fan-out peaked at 397 MB. The limit is soft: a heap
// that must be bigger gets bigger, with the collector running more often.
const (
	gcPercent       = 400
	softMemoryLimit = 160 << 20
)

// tuneGC applies serve's collector settings where the environment leaves them to us.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
}
