package alerts

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Every task runs, on senders or on goroutines of their own; the pool keeps at most size
// senders, and they end once idle.
func TestSenderPoolRunsEveryTask(t *testing.T) {
	p := newSenderPool(2, 50*time.Millisecond)
	var wg sync.WaitGroup
	var ran atomic.Int32
	task := func() {
		defer wg.Done()
		time.Sleep(time.Millisecond)
		ran.Add(1)
	}
	for range 20 { // more at once than the senders
		wg.Add(1)
		p.run(task)
	}
	wg.Wait()
	if n := ran.Load(); n != 20 {
		t.Fatalf("%d tasks ran, want 20", n)
	}
	if n := p.live.Load(); n > 2 {
		t.Fatalf("%d senders, want at most 2", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.live.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d idle senders did not end", p.live.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	wg.Add(1)
	p.run(task) // a pool whose senders ended still runs a task
	wg.Wait()
	if n := ran.Load(); n != 21 {
		t.Fatalf("%d tasks ran, want 21", n)
	}
}
