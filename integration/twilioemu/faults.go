package twilioemu

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SetOutage makes every REST call answer status (500 or 503, with Twilio's error body) for d, or
// until EndOutage when d is 0.
func (e *Emulator) SetOutage(status int, d time.Duration) {
	if status < 500 || status > 599 {
		status = http.StatusServiceUnavailable
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.outageStatus = status
	e.outageUntil = time.Time{}
	if d > 0 {
		e.outageUntil = time.Now().Add(d)
	}
	e.logf("twilioemu: outage %d for %v", status, d)
}

// EndOutage ends an outage.
func (e *Emulator) EndOutage() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.outageStatus = 0
	e.outageUntil = time.Time{}
}

// SetRateLimit changes the message-creation rate above which requests get 429 (code 20429);
// rps 0 removes the limit. burst 0 means rps rounded up.
func (e *Emulator) SetRateLimit(rps float64, burst int) {
	if rps < 0 {
		rps = 0
	}
	if burst <= 0 {
		burst = int(rps + 0.999999)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.bucket.set(rps, burst, time.Now())
}

// SetLatency changes the delay added to every answer.
func (e *Emulator) SetLatency(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.latency = max(d, 0)
}

// FailNumber makes messages to number fail with a Twilio error code: 21xxx at the REST call,
// 30xxx at delivery (see Options.FailNumbers).
func (e *Emulator) FailNumber(number string, code int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failNumbers[number] = code
}

// ClearNumber removes a number's configured failure.
func (e *Emulator) ClearNumber(number string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.failNumbers, number)
}

// Unsubscribe records that number texted STOP: messages to it are refused with 21610.
func (e *Emulator) Unsubscribe(number string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.unsubscribed[number] = true
}

// Resubscribe records that number texted START.
func (e *Emulator) Resubscribe(number string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.unsubscribed, number)
}

// IsUnsubscribed reports whether number is in the STOP set.
func (e *Emulator) IsUnsubscribed(number string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.unsubscribed[number]
}

// controlPrefix holds the emulator's own endpoints, which Twilio does not have; they take the same
// Basic credentials as the REST API so a load test can flip faults with curl -u SID:TOKEN.
const controlPrefix = "/_emulator/"

// Stats is what GET /_emulator/stats answers.
type Stats struct {
	Messages        int            `json:"messages"`
	Duplicates      int            `json:"duplicates"`
	Requests        int            `json:"requests"`
	Rejections      map[string]int `json:"rejections"`
	Rate1s          float64        `json:"rate_1s"`
	Rate10s         float64        `json:"rate_10s"`
	PeakRate1s      float64        `json:"peak_rate_1s"`
	CallbacksOK     int            `json:"callbacks_ok"`
	CallbacksFailed int            `json:"callbacks_failed"`
	StepsPending    int            `json:"steps_pending"`
}

// Stats summarizes the emulator's counters.
func (e *Emulator) Stats() Stats {
	ok, failed, pending := e.CallbackStats()
	rej := make(map[string]int)
	for code, n := range e.Rejections() {
		rej[strconv.Itoa(code)] = n
	}
	return Stats{
		Messages: e.Count(), Duplicates: e.Duplicates(), Requests: e.Requests(), Rejections: rej,
		Rate1s: e.Rate(time.Second), Rate10s: e.Rate(10 * time.Second), PeakRate1s: e.PeakRate(time.Second),
		CallbacksOK: ok, CallbacksFailed: failed, StepsPending: pending,
	}
}

// serveControl answers:
//
//	GET  /_emulator/stats
//	GET  /_emulator/messages
//	POST /_emulator/reset
//	POST /_emulator/outage?status=503&duration=10s   DELETE /_emulator/outage
//	POST /_emulator/ratelimit?rps=50&burst=50
//	POST /_emulator/latency?duration=200ms
//	POST /_emulator/numbers?number=+39...&code=30003 DELETE /_emulator/numbers?number=+39...
//	POST /_emulator/unsubscribed?number=+39...      DELETE /_emulator/unsubscribed?number=+39...
func (e *Emulator) serveControl(w http.ResponseWriter, r *http.Request) {
	if !e.authenticated(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio emulator"`)
		writeJSON(w, http.StatusUnauthorized, newAPIError(http.StatusUnauthorized, 20003, "Authenticate"))
		return
	}
	q := r.URL.Query()
	bad := func(msg string) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": msg})
	}
	duration := func() (time.Duration, bool) {
		if q.Get("duration") == "" {
			return 0, true
		}
		d, err := time.ParseDuration(q.Get("duration"))
		if err != nil || d < 0 {
			bad("duration: want a Go duration such as 10s")
			return 0, false
		}
		return d, true
	}
	what := strings.TrimPrefix(r.URL.Path, controlPrefix)
	switch {
	case what == "stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, e.Stats())
	case what == "messages" && r.Method == http.MethodGet:
		msgs := e.Messages()
		out := make([]messageJSON, len(msgs))
		for i := range msgs {
			out[i] = e.messageJSON(&msgs[i])
		}
		writeJSON(w, http.StatusOK, out)
	case what == "reset" && r.Method == http.MethodPost:
		e.Reset()
		w.WriteHeader(http.StatusNoContent)
	case what == "outage" && r.Method == http.MethodPost:
		status, err := strconv.Atoi(q.Get("status"))
		if err != nil || status < 500 || status > 599 {
			bad("status: want 500 or 503")
			return
		}
		d, ok := duration()
		if !ok {
			return
		}
		e.SetOutage(status, d)
		w.WriteHeader(http.StatusNoContent)
	case what == "outage" && r.Method == http.MethodDelete:
		e.EndOutage()
		w.WriteHeader(http.StatusNoContent)
	case what == "ratelimit" && r.Method == http.MethodPost:
		rps, err := strconv.ParseFloat(q.Get("rps"), 64)
		if err != nil || rps < 0 {
			bad("rps: want a number >= 0")
			return
		}
		burst, _ := strconv.Atoi(q.Get("burst")) // absent or invalid: the default burst
		e.SetRateLimit(rps, burst)
		w.WriteHeader(http.StatusNoContent)
	case what == "latency" && r.Method == http.MethodPost:
		d, ok := duration()
		if !ok {
			return
		}
		e.SetLatency(d)
		w.WriteHeader(http.StatusNoContent)
	case what == "numbers" && (r.Method == http.MethodPost || r.Method == http.MethodDelete):
		number := queryNumber(q.Get("number"))
		if number == "" {
			bad("number is required")
			return
		}
		if r.Method == http.MethodDelete {
			e.ClearNumber(number)
		} else {
			code, err := strconv.Atoi(q.Get("code"))
			if err != nil || code <= 0 {
				bad("code: want a Twilio error code such as 21211 or 30003")
				return
			}
			e.FailNumber(number, code)
		}
		w.WriteHeader(http.StatusNoContent)
	case what == "unsubscribed" && (r.Method == http.MethodPost || r.Method == http.MethodDelete):
		number := queryNumber(q.Get("number"))
		if number == "" {
			bad("number is required")
			return
		}
		if r.Method == http.MethodDelete {
			e.Resubscribe(number)
		} else {
			e.Unsubscribe(number)
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "unknown emulator endpoint " + r.Method + " " + r.URL.Path})
	}
}

// queryNumber undoes the space an unescaped "+" becomes in a query string (?number=+39...).
func queryNumber(s string) string {
	s = strings.TrimRight(s, " ")
	if strings.HasPrefix(s, " ") {
		return "+" + strings.TrimLeft(s, " ")
	}
	return s
}
