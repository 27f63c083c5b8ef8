package alerts

// A fan-out's sends run on long-lived goroutines rather than one new goroutine a send: a send
// goes deep (twilio-go, net/http), and a new goroutine's stack grew by copying to that depth
// every time, 4 % of the gateway's CPU during a fan-out (BENCHMARKS.md, issue 14).

// senderPool hands send tasks to idle sender goroutines; with none idle, a task gets a
// goroutine of its own, so a send never waits for the pool.
type senderPool struct {
	tasks chan func()
}

// startSenders starts n sender goroutines, which end when stop closes.
func startSenders(n int, stop <-chan struct{}) *senderPool {
	p := &senderPool{tasks: make(chan func())}
	for range n {
		go func() {
			for {
				select {
				case task := <-p.tasks:
					task()
				case <-stop:
					return
				}
			}
		}()
	}
	return p
}

// run runs task on an idle sender, or on a goroutine of its own.
func (p *senderPool) run(task func()) {
	select {
	case p.tasks <- task:
	default:
		go task()
	}
}
