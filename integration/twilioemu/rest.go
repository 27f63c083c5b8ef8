package twilioemu

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Message is one message the emulator accepted, as a test inspects it.
type Message struct {
	Sid                 string
	AccountSid          string
	To                  string
	From                string
	MessagingServiceSid string
	Body                string
	MediaURLs           []string
	StatusCallback      string
	// Status is queued (or accepted, with a messaging service and no From), then sent, then
	// delivered, undelivered or failed.
	Status      string
	ErrorCode   int
	NumSegments int
	Encoding    string
	// Received is when the emulator accepted the request; Updated when Status last changed.
	Received time.Time
	Updated  time.Time
	SentAt   time.Time
}

type message struct {
	Message
	failCode int // 30xxx delivery failure decided at acceptance
}

// maxFormBytes bounds a request body; Twilio's own limit is of this order.
const maxFormBytes = 1 << 20

// maxBodyChars is Twilio's limit on a message body (error 21617).
const maxBodyChars = 1600

var (
	e164Pattern     = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	shortCodePat    = regexp.MustCompile(`^[0-9]{3,8}$`)
	alphaSenderPat  = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
	hasLetterPat    = regexp.MustCompile(`[A-Za-z]`)
	messagesPath    = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Messages\.json$`)
	messagePath     = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)\.json$`)
	accountRootPath = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)(/.*)?$`)
)

// apiError is Twilio's JSON error body.
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func newAPIError(status, code int, msg string) apiError {
	return apiError{Code: code, Message: msg, MoreInfo: "https://www.twilio.com/docs/errors/" + strconv.Itoa(code), Status: status}
}

// errorMessage is the text Twilio answers for a refusal code.
func errorMessage(code int, to, from string) string {
	switch code {
	case 21211:
		return fmt.Sprintf("The 'To' number %s is not a valid phone number.", to)
	case 21212:
		return fmt.Sprintf("The 'From' number %s is not a valid phone number, shortcode, or alphanumeric sender ID.", from)
	case 21408:
		return fmt.Sprintf("Permission to send an SMS has not been enabled for the region indicated by the 'To' number: %s.", to)
	case 21602:
		return "Message body is required."
	case 21603:
		return "A 'From' phone number is required."
	case 21604:
		return "A 'To' phone number is required."
	case 21606:
		return fmt.Sprintf("The From phone number %s is not a valid, SMS-capable inbound phone number or short code for your account.", from)
	case 21610:
		return "Attempt to send to unsubscribed recipient"
	case 21611:
		return "This 'From' number has exceeded the maximum number of queued messages"
	case 21612:
		return fmt.Sprintf("The 'To' phone number: %s, is not currently reachable using the 'From' phone number: %s via SMS.", to, from)
	case 21614:
		return fmt.Sprintf("'To' number %s is not a valid mobile number", to)
	case 21617:
		return "The concatenated message body exceeds the 1600 character limit."
	}
	return fmt.Sprintf("Error %d", code)
}

// ServeHTTP answers the REST API and the emulator's own control endpoints under /_emulator/.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The body is read first: only then does net/http notice a client that hangs up, which the
	// latency wait below must see.
	body, bodyErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	r.Body = io.NopCloser(bytes.NewReader(body))

	e.mu.Lock()
	e.requests++
	latency := e.latency
	outage := e.outageStatus
	if outage != 0 && !e.outageUntil.IsZero() && time.Now().After(e.outageUntil) {
		e.outageStatus, outage = 0, 0
	}
	e.mu.Unlock()

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if strings.HasPrefix(r.URL.Path, controlPrefix) {
		e.serveControl(w, r)
		return
	}
	if outage != 0 {
		msg := "Service Unavailable"
		code := 20503
		if outage == http.StatusInternalServerError {
			msg, code = "An internal server error has occurred", 20500
		}
		e.refuse(w, newAPIError(outage, code, msg))
		return
	}
	if !e.authenticated(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		e.refuse(w, newAPIError(http.StatusUnauthorized, 20003, "Authenticate"))
		return
	}
	notFound := newAPIError(http.StatusNotFound, 20404, fmt.Sprintf("The requested resource %s was not found", r.URL.Path))
	if m := accountRootPath.FindStringSubmatch(r.URL.Path); m != nil && m[1] != e.opts.AccountSID {
		// Twilio answers credentials of one account used on another's resources with 20003.
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		e.refuse(w, newAPIError(http.StatusUnauthorized, 20003, "Authenticate"))
		return
	}
	switch {
	case messagesPath.MatchString(r.URL.Path):
		switch r.Method {
		case http.MethodPost:
			if bodyErr != nil {
				e.refuse(w, newAPIError(http.StatusBadRequest, 20001, "Unable to read the request body: "+bodyErr.Error()))
				return
			}
			e.createMessage(w, r)
		case http.MethodGet:
			e.listMessages(w, r)
		default:
			e.refuse(w, newAPIError(http.StatusMethodNotAllowed, 20004, "Method not allowed"))
		}
	case messagePath.MatchString(r.URL.Path):
		if r.Method != http.MethodGet {
			e.refuse(w, newAPIError(http.StatusMethodNotAllowed, 20004, "Method not allowed"))
			return
		}
		sid := messagePath.FindStringSubmatch(r.URL.Path)[2]
		e.mu.Lock()
		m, ok := e.bySid[sid]
		var snapshot Message
		if ok {
			snapshot = m.Message
		}
		e.mu.Unlock()
		if !ok {
			e.refuse(w, notFound)
			return
		}
		writeJSON(w, http.StatusOK, e.messageJSON(&snapshot))
	case e.serveVoice(w, r):
	default:
		e.refuse(w, notFound)
	}
}

func (e *Emulator) authenticated(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	u := subtle.ConstantTimeCompare([]byte(user), []byte(e.opts.AccountSID))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(e.opts.AuthToken))
	return u&p == 1
}

func (e *Emulator) refuse(w http.ResponseWriter, ae apiError) {
	e.mu.Lock()
	e.rejections[ae.Code]++
	e.mu.Unlock()
	writeJSON(w, ae.Status, ae)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client hung up: nothing left to tell it
}

func (e *Emulator) createMessage(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		e.refuse(w, newAPIError(http.StatusBadRequest, 20001, "Unable to parse the request body: "+err.Error()))
		return
	}
	form := r.PostForm
	now := time.Now()
	e.mu.Lock()
	limited := !e.bucket.allow(now)
	e.mu.Unlock()
	if limited {
		e.refuse(w, newAPIError(http.StatusTooManyRequests, 20429, "Too Many Requests"))
		return
	}
	m, ae := e.validate(form)
	if ae != nil {
		e.refuse(w, *ae)
		return
	}
	m.Sid = NewSid("SM")
	if len(m.MediaURLs) > 0 {
		m.Sid = NewSid("MM")
	}
	m.AccountSid = e.opts.AccountSID
	m.Status = "queued"
	if m.From == "" {
		m.Status = "accepted"
	}
	m.NumSegments, m.Encoding = segments(m.Body)
	m.Received, m.Updated = now, now

	e.mu.Lock()
	e.messages = append(e.messages, m)
	e.bySid[m.Sid] = m
	key := m.To + "\x00" + m.Body
	e.sentPairs[key]++
	if e.sentPairs[key] > 1 {
		e.duplicates++
	}
	close(e.arrived)
	e.arrived = make(chan struct{})
	snapshot := m.Message
	e.mu.Unlock()

	e.cb.scheduleLifecycle(m, now)
	writeJSON(w, http.StatusCreated, e.messageJSON(&snapshot))
}

// validate checks a create request the way Twilio does, in Twilio's order.
func (e *Emulator) validate(form url.Values) (*message, *apiError) {
	bad := func(code int, to, from string) *apiError {
		ae := newAPIError(http.StatusBadRequest, code, errorMessage(code, to, from))
		return &ae
	}
	to := strings.TrimSpace(form.Get("To"))
	from := strings.TrimSpace(form.Get("From"))
	service := strings.TrimSpace(form.Get("MessagingServiceSid"))
	body := form.Get("Body")
	media := form["MediaUrl"]
	callback := form.Get("StatusCallback")

	if to == "" {
		return nil, bad(21604, to, from)
	}
	if !validRecipient(to) {
		return nil, bad(21211, to, from)
	}
	if from == "" && service == "" {
		return nil, bad(21603, to, from)
	}
	if from != "" {
		if code := e.checkFrom(from); code != 0 {
			return nil, bad(code, to, from)
		}
	}
	if service != "" && !e.knownService(service) {
		ae := newAPIError(http.StatusBadRequest, 21701, fmt.Sprintf("The Messaging Service Sid %s is invalid.", service))
		return nil, &ae
	}
	if body == "" && len(media) == 0 {
		return nil, bad(21602, to, from)
	}
	if utf8.RuneCountInString(body) > maxBodyChars {
		return nil, bad(21617, to, from)
	}
	for _, u := range media {
		if !absoluteHTTPURL(u) {
			ae := newAPIError(http.StatusBadRequest, 21620, fmt.Sprintf("Invalid media URL(s): %s", u))
			return nil, &ae
		}
	}
	if callback != "" && !absoluteHTTPURL(callback) {
		ae := newAPIError(http.StatusBadRequest, 21609, fmt.Sprintf("The StatusCallback URL %s is not a valid URL.", callback))
		return nil, &ae
	}

	e.mu.Lock()
	unsubscribed := e.unsubscribed[to]
	code, configured := e.failNumbers[to]
	e.mu.Unlock()
	if !configured && !e.opts.DisableMagicNumbers {
		code, configured = magicTo[to]
	}
	if unsubscribed {
		return nil, bad(21610, to, from)
	}
	m := &message{Message: Message{
		To: to, From: from, MessagingServiceSid: service, Body: body,
		MediaURLs: append([]string(nil), media...), StatusCallback: callback,
	}}
	if configured {
		if code >= 30000 && code < 40000 {
			m.failCode = code
		} else {
			return nil, bad(code, to, from)
		}
	}
	return m, nil
}

func validRecipient(to string) bool {
	if !e164Pattern.MatchString(to) {
		return false
	}
	n, err := phonenumbers.Parse(to, "")
	return err == nil && phonenumbers.IsPossibleNumber(n)
}

// checkFrom returns the refusal code for a From value, or 0.
func (e *Emulator) checkFrom(from string) int {
	if !e.opts.DisableMagicNumbers {
		if code, ok := magicFrom[from]; ok {
			return code
		}
	}
	switch {
	case e164Pattern.MatchString(from), shortCodePat.MatchString(from):
		if len(e.opts.OwnedNumbers) == 0 {
			return 0
		}
		for _, n := range e.opts.OwnedNumbers {
			if n == from {
				return 0
			}
		}
		return 21606
	case alphaSenderPat.MatchString(from) && hasLetterPat.MatchString(from):
		return 0
	}
	return 21212
}

func (e *Emulator) knownService(sid string) bool {
	if !serviceSIDPattern.MatchString(sid) {
		return false
	}
	if len(e.opts.MessagingServiceSIDs) == 0 {
		return true
	}
	for _, s := range e.opts.MessagingServiceSIDs {
		if s == sid {
			return true
		}
	}
	return false
}

func absoluteHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// messageJSON is Twilio's Message resource.
type messageJSON struct {
	AccountSid          string            `json:"account_sid"`
	APIVersion          string            `json:"api_version"`
	Body                string            `json:"body"`
	DateCreated         string            `json:"date_created"`
	DateSent            *string           `json:"date_sent"`
	DateUpdated         string            `json:"date_updated"`
	Direction           string            `json:"direction"`
	ErrorCode           *int              `json:"error_code"`
	ErrorMessage        *string           `json:"error_message"`
	From                *string           `json:"from"`
	MessagingServiceSid *string           `json:"messaging_service_sid"`
	NumMedia            string            `json:"num_media"`
	NumSegments         string            `json:"num_segments"`
	Price               *string           `json:"price"`
	PriceUnit           string            `json:"price_unit"`
	Sid                 string            `json:"sid"`
	Status              string            `json:"status"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
	To                  string            `json:"to"`
	URI                 string            `json:"uri"`
}

func twilioTime(t time.Time) string { return t.UTC().Format(time.RFC1123Z) }

func (e *Emulator) messageJSON(m *Message) messageJSON {
	base := "/2010-04-01/Accounts/" + m.AccountSid + "/Messages/" + m.Sid
	j := messageJSON{
		AccountSid:      m.AccountSid,
		APIVersion:      APIVersion,
		Body:            m.Body,
		DateCreated:     twilioTime(m.Received),
		DateUpdated:     twilioTime(m.Updated),
		Direction:       "outbound-api",
		NumMedia:        strconv.Itoa(len(m.MediaURLs)),
		NumSegments:     strconv.Itoa(m.NumSegments),
		PriceUnit:       "USD",
		Sid:             m.Sid,
		Status:          m.Status,
		SubresourceURIs: map[string]string{"media": base + "/Media.json", "feedback": base + "/Feedback.json"},
		To:              m.To,
		URI:             base + ".json",
	}
	if !m.SentAt.IsZero() {
		s := twilioTime(m.SentAt)
		j.DateSent = &s
	}
	if m.ErrorCode != 0 {
		code := m.ErrorCode
		j.ErrorCode = &code
		msg := deliveryErrorMessage(code)
		j.ErrorMessage = &msg
	}
	if m.From != "" {
		from := m.From
		j.From = &from
	}
	if m.MessagingServiceSid != "" {
		s := m.MessagingServiceSid
		j.MessagingServiceSid = &s
	}
	return j
}

func deliveryErrorMessage(code int) string {
	switch code {
	case 30001:
		return "Queue overflow"
	case 30002:
		return "Account suspended"
	case 30003:
		return "Unreachable destination handset"
	case 30004:
		return "Message blocked"
	case 30005:
		return "Unknown destination handset"
	case 30006:
		return "Landline or unreachable carrier"
	case 30007:
		return "Message filtered"
	case 30008:
		return "Unknown error"
	}
	return fmt.Sprintf("Error %d", code)
}

// listMessages answers GET Messages.json with the newest messages first, filtered by To and From.
func (e *Emulator) listMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size := 50
	if s, err := strconv.Atoi(q.Get("PageSize")); err == nil && s > 0 && s <= 1000 {
		size = s
	}
	e.mu.Lock()
	var list []messageJSON
	for i := len(e.messages) - 1; i >= 0 && len(list) < size; i-- {
		m := e.messages[i]
		if (q.Get("To") != "" && m.To != q.Get("To")) || (q.Get("From") != "" && m.From != q.Get("From")) {
			continue
		}
		list = append(list, e.messageJSON(&m.Message))
	}
	e.mu.Unlock()
	if list == nil {
		list = []messageJSON{}
	}
	uri := r.URL.RequestURI()
	writeJSON(w, http.StatusOK, map[string]any{
		"messages": list, "page": 0, "page_size": size, "uri": uri, "first_page_uri": uri,
		"next_page_uri": nil, "previous_page_uri": nil, "start": 0, "end": len(list) - 1,
	})
}
