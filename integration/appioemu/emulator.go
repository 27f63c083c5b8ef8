// Package appioemu is an App IO emulator for Sportello's tests. It answers the three calls a
// service makes the way App IO does: every request needs a service's subscription key
// (Ocp-Apim-Subscription-Key, one per service); POST /api/v1/profiles says whether a citizen's
// profile accepts the service (404 without a profile); POST /api/v1/messages checks the fiscal
// code, the subject (10-120 characters) and the markdown (80-10,000) and answers 201 with an id;
// GET /api/v1/messages/{fiscal_code}/{id} gives the message's status (PROCESSED once
// delivered). Throttling (429 with Retry-After) can be turned on, for the next N calls or by rate.
// It records every accepted message so a test can prove nobody was lost or doubled.
//
//	emu := appioemu.New(appioemu.Options{Services: map[string]string{"key": "firenze"}})
//	srv := httptest.NewServer(emu)
package appioemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Options configure an Emulator.
type Options struct {
	// Services maps each subscription key to the service (a name) it belongs to.
	Services map[string]string
	// ProcessAfter is how long an accepted message stays ACCEPTED before it is PROCESSED.
	ProcessAfter time.Duration
	// RetryAfter is the Retry-After (seconds) of a 429; 0 = 1.
	RetryAfter int
}

// Message is one message App IO accepted.
type Message struct {
	ID         string
	Service    string
	FiscalCode string
	Subject    string
	Markdown   string
	At         time.Time
}

// Emulator is an http.Handler that plays App IO.
type Emulator struct {
	o Options

	mu        sync.Mutex
	profiles  map[string]map[string]bool // fiscal code -> service -> allowed ("" = any service)
	blocked   map[string]map[string]bool // fiscal code -> services refused
	messages  []Message
	throttleN int // the next N calls answer 429
	throttled int
	refused   []string // why requests were refused (400, 401), for tests
	seq       int
}

// New builds an emulator.
func New(o Options) *Emulator {
	if o.RetryAfter <= 0 {
		o.RetryAfter = 1
	}
	return &Emulator{o: o, profiles: map[string]map[string]bool{}, blocked: map[string]map[string]bool{}}
}

// AddProfile gives a citizen an App IO profile that accepts every service except those named.
func (e *Emulator) AddProfile(fiscalCode string, refuses ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.profiles[fiscalCode] = map[string]bool{}
	e.blocked[fiscalCode] = map[string]bool{}
	for _, s := range refuses {
		e.blocked[fiscalCode][s] = true
	}
}

// Throttle makes the next n calls (of any kind) answer 429.
func (e *Emulator) Throttle(n int) {
	e.mu.Lock()
	e.throttleN = n
	e.mu.Unlock()
}

// Throttled is how many calls were answered 429.
func (e *Emulator) Throttled() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.throttled
}

// Messages returns a copy of every accepted message, in order.
func (e *Emulator) Messages() []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Message(nil), e.messages...)
}

// Refused lists the reasons of the requests answered 400 or 401.
func (e *Emulator) Refused() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.refused...)
}

var (
	fiscalCodeRE = regexp.MustCompile(`^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$`)
	statusPath   = regexp.MustCompile(`^/api/v1/messages/([^/]+)/([^/]+)$`)
)

// ServeHTTP answers App IO's API.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	service, ok := e.o.Services[r.Header.Get("Ocp-Apim-Subscription-Key")]
	if !ok {
		e.refuse(w, http.StatusUnauthorized, "Access denied", "missing or invalid subscription key")
		return
	}
	e.mu.Lock()
	if e.throttleN > 0 {
		e.throttleN--
		e.throttled++
		e.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(e.o.RetryAfter))
		problem(w, http.StatusTooManyRequests, "Too many requests", "rate limit exceeded")
		return
	}
	e.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/profiles":
		e.profile(w, r, service)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/messages":
		e.submit(w, r, service)
	case r.Method == http.MethodGet && statusPath.MatchString(r.URL.Path):
		m := statusPath.FindStringSubmatch(r.URL.Path)
		e.status(w, service, m[1], m[2])
	default:
		problem(w, http.StatusNotFound, "Not found", r.Method+" "+r.URL.Path)
	}
}

func (e *Emulator) profile(w http.ResponseWriter, r *http.Request, service string) {
	var in struct {
		FiscalCode string `json:"fiscal_code"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil || !fiscalCodeRE.MatchString(in.FiscalCode) {
		e.refuse(w, http.StatusBadRequest, "Invalid fiscal code", fmt.Sprintf("%q", in.FiscalCode))
		return
	}
	e.mu.Lock()
	_, has := e.profiles[in.FiscalCode]
	allowed := has && !e.blocked[in.FiscalCode][service]
	e.mu.Unlock()
	if !has {
		problem(w, http.StatusNotFound, "Profile not found", "no profile for this fiscal code")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sender_allowed": allowed, "preferred_languages": []string{"it_IT"}})
}

func (e *Emulator) submit(w http.ResponseWriter, r *http.Request, service string) {
	var in struct {
		FiscalCode string `json:"fiscal_code"`
		Content    *struct {
			Subject  string `json:"subject"`
			Markdown string `json:"markdown"`
		} `json:"content"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		e.refuse(w, http.StatusBadRequest, "Invalid payload", err.Error())
		return
	}
	switch {
	case !fiscalCodeRE.MatchString(in.FiscalCode):
		e.refuse(w, http.StatusBadRequest, "Invalid fiscal code", fmt.Sprintf("%q", in.FiscalCode))
		return
	case in.Content == nil:
		e.refuse(w, http.StatusBadRequest, "Invalid payload", "content is required")
		return
	}
	if n := utf8.RuneCountInString(in.Content.Subject); n < 10 || n > 120 {
		e.refuse(w, http.StatusBadRequest, "Invalid subject", fmt.Sprintf("subject of %d characters (10-120)", n))
		return
	}
	if n := utf8.RuneCountInString(in.Content.Markdown); n < 80 || n > 10000 {
		e.refuse(w, http.StatusBadRequest, "Invalid markdown", fmt.Sprintf("markdown of %d characters (80-10000)", n))
		return
	}
	e.mu.Lock()
	_, has := e.profiles[in.FiscalCode]
	allowed := has && !e.blocked[in.FiscalCode][service]
	if !allowed {
		e.mu.Unlock()
		// App IO refuses a message to a citizen who has no profile or refuses the service.
		e.refuse(w, http.StatusForbidden, "Recipient forbidden", "the recipient does not accept this service")
		return
	}
	e.seq++
	m := Message{ID: fmt.Sprintf("01EMU%021d", e.seq), Service: service, FiscalCode: in.FiscalCode,
		Subject: in.Content.Subject, Markdown: in.Content.Markdown, At: time.Now()}
	e.messages = append(e.messages, m)
	e.mu.Unlock()
	w.Header().Set("Location", "/api/v1/messages/"+m.FiscalCode+"/"+m.ID)
	writeJSON(w, http.StatusCreated, map[string]string{"id": m.ID})
}

func (e *Emulator) status(w http.ResponseWriter, service, fiscalCode, id string) {
	e.mu.Lock()
	var found *Message
	for i := range e.messages {
		if e.messages[i].ID == id {
			found = &e.messages[i]
		}
	}
	e.mu.Unlock()
	if found == nil || found.FiscalCode != fiscalCode || found.Service != service {
		problem(w, http.StatusNotFound, "Message not found", id)
		return
	}
	status := "ACCEPTED"
	if time.Since(found.At) >= e.o.ProcessAfter {
		status = "PROCESSED"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"message": map[string]any{"id": found.ID, "fiscal_code": found.FiscalCode, "created_at": found.At.UTC().Format(time.RFC3339),
			"content": map[string]string{"subject": found.Subject, "markdown": found.Markdown}},
		"status": status,
	})
}

func (e *Emulator) refuse(w http.ResponseWriter, code int, title, detail string) {
	e.mu.Lock()
	e.refused = append(e.refused, strconv.Itoa(code)+" "+title+": "+detail)
	e.mu.Unlock()
	problem(w, code, title, detail)
}

func problem(w http.ResponseWriter, code int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": code, "title": title, "detail": strings.TrimSpace(detail)})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
