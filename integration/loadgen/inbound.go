// Package loadgen posts signed Twilio webhooks at a steady rate and keeps each one's latency:
// the inbound side of a load test, shared by the integration tests and the benchmark tools.
package loadgen

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sportello/sportello/integration/twilioemu"
)

// Inbound posts inbound SMS webhooks, each from one of 5,000 senders, until Stop.
type Inbound struct {
	done   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	lat    []time.Duration
	errors atomic.Int64
}

// StartInbound posts rate webhooks a second to base + /webhooks/twilio/sms, signed by signer,
// to the comune number to; message ids start with prefix ("SM" and hex digits, unique per run).
func StartInbound(base string, signer twilioemu.Signer, to string, rate int, prefix string) *Inbound {
	l := &Inbound{done: make(chan struct{})}
	c := &http.Client{Timeout: 10 * time.Second}
	full := base + "/webhooks/twilio/sms"
	var seq atomic.Int64
	l.wg.Go(func() {
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for {
			select {
			case <-l.done:
				return
			case <-tick.C:
			}
			i := seq.Add(1)
			l.wg.Go(func() { l.post(c, full, signer, to, fmt.Sprintf("%s%0*d", prefix, 34-len(prefix), i), i) })
		}
	})
	return l
}

func (l *Inbound) post(c *http.Client, full string, signer twilioemu.Signer, to, sid string, i int64) {
	form := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {signer.AccountSID}, "From": {fmt.Sprintf("+39348%07d", i%5000)},
		"To": {to}, "Body": {"Buongiorno, a che ora apre l'ufficio anagrafe?"}, "NumMedia": {"0"}, "SmsStatus": {"received"}}
	req, err := http.NewRequest(http.MethodPost, full, strings.NewReader(form.Encode()))
	if err != nil {
		l.errors.Add(1)
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", signer.Sign(full, form))
	t0 := time.Now()
	resp, err := c.Do(req)
	d := time.Since(t0)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body) // drained for reuse; the status is the result
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
	}
	if err != nil {
		l.errors.Add(1)
		return
	}
	l.mu.Lock()
	l.lat = append(l.lat, d)
	l.mu.Unlock()
}

// Stop ends the load and returns every answered webhook's latency, in the order they came.
func (l *Inbound) Stop() []time.Duration {
	close(l.done)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lat)
}

// Errors is how many webhooks failed (no answer, or not 200).
func (l *Inbound) Errors() int64 { return l.errors.Load() }
