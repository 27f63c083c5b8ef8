package alerts

import (
	"sync/atomic"
	"time"
)

// A fan-out's sends run on long-lived goroutines rather than one new goroutine a send: a send
// goes deep (twilio-go, net/http), and a new goroutine's stack grew by copying to that depth
// every time, 4 % of the gateway's CPU during a fan-out (BENCHMARKS.md, issue 14).

// senderPool hands send tasks to idle senders. With none idle, a task gets a goroutine of its
// own, which stays on as a sender after it (up to size senders), so a send never waits for the
// pool and the pool grows to what the sends need. A sender idle for idleFor ends.
type senderPool struct {
	tasks   chan func()
	live    atomic.Int64
	size    int // the most senders kept
	idleFor time.Duration
}

// senderIdleFor is how long a fan-out's sender waits for another send before it ends: longer
// than the pauses between a batch's chunks.
const senderIdleFor = 30 * time.Second

func newSenderPool(size int, idleFor time.Duration) *senderPool {
	return &senderPool{tasks: make(chan func()), size: size, idleFor: idleFor}
}

// run runs task on an idle sender, or on a goroutine of its own.
func (p *senderPool) run(task func()) {
	select {
	case p.tasks <- task:
	default:
		go p.serve(task)
	}
}

// serve runs task, then takes further tasks as a sender while the pool has room for it.
func (p *senderPool) serve(task func()) {
	task()
	if p.live.Add(1) > int64(p.size) {
		p.live.Add(-1)
		return
	}
	defer p.live.Add(-1)
	idle := time.NewTimer(p.idleFor)
	defer idle.Stop()
	for {
		select {
		case task := <-p.tasks:
			task()
			idle.Reset(p.idleFor)
		case <-idle.C:
			return
		}
	}
}
