package twilioemu

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Messages returns every accepted message, in arrival order.
func (e *Emulator) Messages() []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Message, len(e.messages))
	for i, m := range e.messages {
		out[i] = m.Message
		out[i].MediaURLs = append([]string(nil), m.MediaURLs...)
	}
	return out
}

// Message returns one accepted message by sid.
func (e *Emulator) Message(sid string) (Message, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, ok := e.bySid[sid]
	if !ok {
		return Message{}, false
	}
	return m.Message, true
}

// Count is the number of accepted messages.
func (e *Emulator) Count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.messages)
}

// CountTo is the number of accepted messages to one number.
func (e *Emulator) CountTo(number string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, m := range e.messages {
		if m.To == number {
			n++
		}
	}
	return n
}

// WaitFor blocks until at least n messages were accepted or ctx ends.
func (e *Emulator) WaitFor(ctx context.Context, n int) error {
	for {
		e.mu.Lock()
		have := len(e.messages)
		ch := e.arrived
		e.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("twilioemu: %d of %d messages arrived: %w", have, n, ctx.Err())
		}
	}
}

// Duplicate is a (To, Body) pair accepted more than once.
type Duplicate struct {
	To    string
	Body  string
	Count int
}

// Duplicates is how many accepted messages repeated the To and Body of an earlier one: zero
// proves no message was sent twice (when every intended message has a distinct To+Body).
func (e *Emulator) Duplicates() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.duplicates
}

// DuplicateList lists the repeated (To, Body) pairs, most repeated first.
func (e *Emulator) DuplicateList() []Duplicate {
	e.mu.Lock()
	var out []Duplicate
	listed := make(map[string]bool)
	for _, m := range e.messages {
		key := m.To + "\x00" + m.Body
		if c := e.sentPairs[key]; c > 1 && !listed[key] {
			listed[key] = true
			out = append(out, Duplicate{To: m.To, Body: m.Body, Count: c})
		}
	}
	e.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out
}

// Requests is the number of HTTP requests the emulator answered, refused ones included.
func (e *Emulator) Requests() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests
}

// Rejections counts refused requests by Twilio error code (20003, 20429, 21211, ...).
func (e *Emulator) Rejections() map[int]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[int]int, len(e.rejections))
	for k, v := range e.rejections {
		out[k] = v
	}
	return out
}

// Rate is the number of messages accepted per second over the window ending now.
func (e *Emulator) Rate(window time.Duration) float64 {
	now := time.Now()
	return e.RateBetween(now.Add(-window), now)
}

// RateBetween is the number of messages per second accepted in [from, to).
func (e *Emulator) RateBetween(from, to time.Time) float64 {
	if !to.After(from) {
		return 0
	}
	times := e.arrivals()
	lo := sort.Search(len(times), func(i int) bool { return !times[i].Before(from) })
	hi := sort.Search(len(times), func(i int) bool { return !times[i].Before(to) })
	return float64(hi-lo) / to.Sub(from).Seconds()
}

// PeakRate is the highest number of messages per second accepted within any window of the given
// length (sliding over arrival times): what a pacing test compares with the configured limit.
func (e *Emulator) PeakRate(window time.Duration) float64 {
	if window <= 0 {
		return 0
	}
	times := e.arrivals()
	best, lo := 0, 0
	for hi := range times {
		for times[hi].Sub(times[lo]) >= window {
			lo++
		}
		if n := hi - lo + 1; n > best {
			best = n
		}
	}
	return float64(best) / window.Seconds()
}

// arrivals returns acceptance times in order (messages are appended under the lock in order).
func (e *Emulator) arrivals() []time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]time.Time, len(e.messages))
	for i, m := range e.messages {
		out[i] = m.Received
	}
	return out
}

// Callbacks returns every status callback attempt so far, in order.
func (e *Emulator) Callbacks() []CallbackRecord {
	e.cb.mu.Lock()
	defer e.cb.mu.Unlock()
	return append([]CallbackRecord(nil), e.cb.records...)
}

// CallbackStats counts callbacks finally delivered (2xx) and finally failed, and steps pending.
func (e *Emulator) CallbackStats() (delivered, failed, pending int) {
	e.cb.mu.Lock()
	defer e.cb.mu.Unlock()
	return e.cb.ok, e.cb.failed, e.cb.pending
}

// WaitCallbacks blocks until every scheduled status step (and its callback) has run.
func (e *Emulator) WaitCallbacks(ctx context.Context) error { return e.cb.wait(ctx) }

// Reset forgets accepted messages, counters and callback records; faults and options stay.
// Status steps already scheduled still run.
func (e *Emulator) Reset() {
	e.mu.Lock()
	e.messages = nil
	e.bySid = make(map[string]*message)
	e.sentPairs = make(map[string]int)
	e.duplicates = 0
	e.requests = 0
	e.rejections = make(map[int]int)
	e.mu.Unlock()
	e.cb.mu.Lock()
	e.cb.records = nil
	e.cb.ok, e.cb.failed = 0, 0
	e.cb.mu.Unlock()
}
