package store

import (
	"testing"
	"time"
)

func TestLatencyWindowForgetsAfterTwoSpansAndLearnsQuiet(t *testing.T) {
	var l latencyWindow
	t0 := time.Unix(1000, 0)
	l.observe(t0, 3*time.Millisecond)
	l.observe(t0.Add(10*time.Millisecond), time.Millisecond)
	if got, _ := l.worst(t0.Add(100 * time.Millisecond)); got != 3*time.Millisecond {
		t.Fatalf("worst in the first span = %v, want 3ms", got)
	}
	// One span later the slow write is still remembered (the previous span)...
	if got, _ := l.worst(t0.Add(latencySpan + 10*time.Millisecond)); got != 3*time.Millisecond {
		t.Fatalf("worst one span later = %v, want 3ms", got)
	}
	// ...and the quiet span taught the quiet level.
	if _, quiet := l.worst(t0.Add(latencySpan + 20*time.Millisecond)); quiet != 3*time.Millisecond {
		t.Fatalf("quiet after a quiet span = %v, want 3ms", quiet)
	}
	// Two spans later it is gone.
	if got, _ := l.worst(t0.Add(3 * latencySpan)); got != 0 {
		t.Fatalf("worst three spans later = %v, want 0", got)
	}

	// A span with bulk work does not move the quiet level, however slow.
	t1 := t0.Add(10 * latencySpan)
	l.bulkQueued(t1)
	l.observe(t1.Add(time.Millisecond), 80*time.Millisecond)
	recent, quiet := l.worst(t1.Add(latencySpan + time.Millisecond))
	if recent != 80*time.Millisecond || quiet != 3*time.Millisecond {
		t.Fatalf("after a busy span: recent %v quiet %v, want 80ms and 3ms", recent, quiet)
	}
	// A later quiet span moves it a quarter of the way.
	t2 := t1.Add(5 * latencySpan)
	l.observe(t2, 7*time.Millisecond)
	if _, quiet := l.worst(t2.Add(latencySpan)); quiet != 4*time.Millisecond {
		t.Fatalf("quiet after a 7ms quiet span = %v, want 4ms", quiet)
	}
}
