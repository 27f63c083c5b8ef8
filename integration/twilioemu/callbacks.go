package twilioemu

import (
	"container/heap"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A message's life after acceptance is a chain of status steps (sent, then delivered; or failed;
// or sent, then undelivered). Each step changes the message's status when it is due and, when the
// message has a StatusCallback, posts a signed callback. Steps wait in one time-ordered heap
// served by a fixed number of workers: however many messages arrive, the goroutine count stays
// CallbackWorkers + 1.

// CallbackRecord is one attempt to deliver a status callback.
type CallbackRecord struct {
	MessageSid string
	Status     string
	URL        string
	Attempt    int
	// StatusCode is the receiver's answer; 0 when it could not be reached (see Err).
	StatusCode int
	Err        string
	At         time.Time
	// Final is true for the last attempt of this callback (success, 4xx, or attempts exhausted).
	Final bool
}

type step struct {
	due     time.Time
	msg     *message
	status  string
	attempt int
	token   string // I-Twilio-Idempotency-Token, the same on every retry
	next    []string
	index   int
}

type stepHeap []*step

func (h stepHeap) Len() int           { return len(h) }
func (h stepHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h stepHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *stepHeap) Push(x any)        { s := x.(*step); s.index = len(*h); *h = append(*h, s) }
func (h *stepHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return s
}

type callbacks struct {
	e      *Emulator
	ctx    context.Context
	cancel context.CancelFunc
	work   chan *step
	wake   chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex
	queue   stepHeap
	pending int // steps scheduled or running
	idle    chan struct{}
	records []CallbackRecord
	ok      int
	failed  int
}

func startCallbacks(e *Emulator) *callbacks {
	ctx, cancel := context.WithCancel(context.Background())
	c := &callbacks{
		e: e, ctx: ctx, cancel: cancel,
		work: make(chan *step),
		wake: make(chan struct{}, 1),
		idle: make(chan struct{}),
	}
	c.wg.Add(1 + e.opts.CallbackWorkers)
	go c.schedule()
	for range e.opts.CallbackWorkers {
		go c.worker()
	}
	return c
}

// scheduleLifecycle queues the steps a newly accepted message goes through.
func (c *callbacks) scheduleLifecycle(m *message, accepted time.Time) {
	var chain []string
	switch {
	case m.failCode == 30001 || m.failCode == 30002:
		chain = []string{"failed"}
	case m.failCode != 0:
		chain = []string{"sent", "undelivered"}
	default:
		chain = []string{"sent", "delivered"}
	}
	c.push(&step{due: accepted.Add(c.e.opts.CallbackDelay), msg: m, status: chain[0], attempt: 1, token: NewSid(""), next: chain[1:]}, true)
}

func (c *callbacks) push(s *step, isNew bool) {
	c.mu.Lock()
	if isNew {
		c.pending++
	}
	heap.Push(&c.queue, s)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// done marks one step finished (after any follow-up step was pushed).
func (c *callbacks) done() {
	c.mu.Lock()
	c.pending--
	if c.pending == 0 {
		close(c.idle)
		c.idle = make(chan struct{})
	}
	c.mu.Unlock()
}

func (c *callbacks) schedule() {
	defer c.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c.mu.Lock()
		var ready *step
		wait := time.Hour
		if len(c.queue) > 0 {
			if d := time.Until(c.queue[0].due); d <= 0 {
				ready = heap.Pop(&c.queue).(*step)
			} else {
				wait = d
			}
		}
		c.mu.Unlock()
		if ready != nil {
			select {
			case c.work <- ready:
				continue
			case <-c.ctx.Done():
				return
			}
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-c.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		case <-c.ctx.Done():
			return
		}
	}
}

func (c *callbacks) worker() {
	defer c.wg.Done()
	for {
		select {
		case s := <-c.work:
			c.run(s)
		case <-c.ctx.Done():
			return
		}
	}
}

func (c *callbacks) run(s *step) {
	e := c.e
	now := time.Now()
	if s.attempt == 1 {
		e.mu.Lock()
		s.msg.Status = s.status
		s.msg.Updated = now
		if s.status == "sent" {
			s.msg.SentAt = now
		}
		if s.status == "failed" || s.status == "undelivered" {
			s.msg.ErrorCode = s.msg.failCode
		}
		e.mu.Unlock()
	}
	if s.msg.StatusCallback != "" {
		rec, retry := c.post(s)
		if retry && s.attempt < e.opts.CallbackAttempts {
			backoff := e.opts.CallbackBackoff << (s.attempt - 1)
			s.attempt++
			s.due = time.Now().Add(backoff)
			c.record(rec)
			c.push(s, false)
			return
		}
		rec.Final = true
		c.record(rec)
	}
	if len(s.next) > 0 {
		c.push(&step{due: time.Now().Add(e.opts.DeliveryDelay), msg: s.msg, status: s.next[0], attempt: 1, token: NewSid(""), next: s.next[1:]}, true)
	}
	c.done()
}

// post sends one callback attempt; retry says whether a later attempt may succeed.
func (c *callbacks) post(s *step) (CallbackRecord, bool) {
	e := c.e
	e.mu.Lock()
	m := s.msg.Message
	e.mu.Unlock()
	params := url.Values{
		"AccountSid":    {m.AccountSid},
		"ApiVersion":    {APIVersion},
		"MessageSid":    {m.Sid},
		"MessageStatus": {s.status},
		"SmsSid":        {m.Sid},
		"SmsStatus":     {s.status},
		"To":            {m.To},
	}
	if m.From != "" {
		params.Set("From", m.From)
	}
	if m.MessagingServiceSid != "" {
		params.Set("MessagingServiceSid", m.MessagingServiceSid)
	}
	if s.status == "failed" || s.status == "undelivered" {
		params.Set("ErrorCode", strconv.Itoa(m.ErrorCode))
	}
	rec := CallbackRecord{MessageSid: m.Sid, Status: s.status, URL: m.StatusCallback, Attempt: s.attempt, At: time.Now()}
	req, err := http.NewRequestWithContext(c.ctx, http.MethodPost, m.StatusCallback, strings.NewReader(params.Encode()))
	if err != nil {
		rec.Err = err.Error()
		return rec, false
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("I-Twilio-Idempotency-Token", s.token)
	req.Header.Set("X-Twilio-Signature", e.sig.Sign(m.StatusCallback, params))
	resp, err := e.cbClient.Do(req)
	if err != nil {
		rec.Err = err.Error()
		e.logf("twilioemu: callback %s %s attempt %d: %v", m.Sid, s.status, s.attempt, err)
		return rec, c.ctx.Err() == nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // drained so the connection is reused
	_ = resp.Body.Close()
	rec.StatusCode = resp.StatusCode
	if resp.StatusCode >= 500 {
		e.logf("twilioemu: callback %s %s attempt %d: HTTP %d", m.Sid, s.status, s.attempt, resp.StatusCode)
		return rec, true
	}
	return rec, false
}

func (c *callbacks) record(r CallbackRecord) {
	c.mu.Lock()
	c.records = append(c.records, r)
	if r.Final {
		if r.StatusCode >= 200 && r.StatusCode < 300 {
			c.ok++
		} else {
			c.failed++
		}
	}
	c.mu.Unlock()
}

// stop ends the workers and returns how many steps were abandoned.
func (c *callbacks) stop() int {
	c.cancel()
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending
}

// wait blocks until no step is scheduled or running.
func (c *callbacks) wait(ctx context.Context) error {
	for {
		c.mu.Lock()
		if c.pending == 0 {
			c.mu.Unlock()
			return nil
		}
		idle := c.idle
		n := c.pending
		c.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return fmt.Errorf("twilioemu: %d status steps still pending: %w", n, ctx.Err())
		}
	}
}
