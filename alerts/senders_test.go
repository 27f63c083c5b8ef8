package alerts

import (
	"sync"
	"testing"
	"time"
)

// Every task runs, whether a sender is idle, all are busy, or the pool has stopped.
func TestSenderPoolRunsEveryTask(t *testing.T) {
	stop := make(chan struct{})
	p := startSenders(2, stop)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ran := 0
	task := func() {
		defer wg.Done()
		time.Sleep(time.Millisecond)
		mu.Lock()
		ran++
		mu.Unlock()
	}
	for range 20 { // more than the senders: the rest get goroutines of their own
		wg.Add(1)
		p.run(task)
	}
	wg.Wait()
	close(stop)
	time.Sleep(10 * time.Millisecond) // the senders have returned
	wg.Add(1)
	p.run(task)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a task handed to a stopped pool never ran")
	}
	if ran != 21 {
		t.Fatalf("%d tasks ran, want 21", ran)
	}
}
