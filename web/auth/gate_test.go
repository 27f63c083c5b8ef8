package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestPasswordGateBoundsChecks(t *testing.T) {
	hash, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	g := NewPasswordGate(GateOptions{Concurrent: 1, MaxWait: 50 * time.Millisecond, PerClient: 2})
	if ok, err := g.Check(context.Background(), "a", hash, "correct horse"); !ok || err != nil {
		t.Fatalf("a lone check: %v %v", ok, err)
	}
	// Hold the only slot: a second client waits MaxWait, then is busy.
	g.slots <- struct{}{}
	start := time.Now()
	if _, err := g.Check(context.Background(), "b", hash, "x"); !errors.Is(err, ErrBusy) || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("with no slot: %v after %v", err, time.Since(start))
	}
	// One client's third check at once is refused without waiting.
	g2 := NewPasswordGate(GateOptions{Concurrent: 1, MaxWait: time.Second, PerClient: 2})
	g2.slots <- struct{}{}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = g2.Check(context.Background(), "c", hash, "x") }()
	}
	for deadline := time.Now().Add(time.Second); ; {
		g2.mu.Lock()
		n := g2.inFlight["c"]
		g2.mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the two waiting checks never registered (%d)", n)
		}
		time.Sleep(time.Millisecond)
	}
	start = time.Now()
	if _, err := g2.Check(context.Background(), "c", hash, "x"); !errors.Is(err, ErrBusy) || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("a third check of one client: %v after %v", err, time.Since(start))
	}
	<-g2.slots
	wg.Wait()
	if len(g2.inFlight) != 0 {
		t.Fatalf("the gate kept %v", g2.inFlight)
	}
}
