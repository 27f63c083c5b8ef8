package twilioemu

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	callsPath     = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Calls\.json$`)
	callPath      = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Calls/(CA[0-9a-f]{32})\.json$`)
	queuesPath    = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Queues\.json$`)
	queuePath     = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Queues/(QU[0-9a-f]{32})\.json$`)
	membersPath   = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Queues/(QU[0-9a-f]{32})/Members\.json$`)
	recordingPath = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Recordings/(RE[0-9a-f]{32})(\.mp3|\.wav|\.json)?$`)
	memberPath    = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Queues/(QU[0-9a-f]{32})/Members/(CA[0-9a-f]{32}|Front)\.json$`)
)

// serveVoice answers the voice REST resources: Calls (create, fetch, update), Queues (list,
// fetch) and their Members (list, fetch, dequeue), Recordings (fetch, delete). It reports false
// for other paths.
func (e *Emulator) serveVoice(w http.ResponseWriter, r *http.Request) bool {
	p := r.URL.Path
	switch {
	case callsPath.MatchString(p):
		switch r.Method {
		case http.MethodPost:
			e.createCall(w, r)
		case http.MethodGet:
			list := []map[string]any{}
			for _, c := range e.Calls() {
				list = append(list, e.callJSON(c))
			}
			writeJSON(w, http.StatusOK, map[string]any{"calls": list, "page": 0, "page_size": 50, "start": 0, "end": len(list),
				"first_page_uri": p, "next_page_uri": nil, "previous_page_uri": nil, "uri": p})
		default:
			e.refuse(w, newAPIError(http.StatusMethodNotAllowed, 20004, "Method not allowed"))
		}
	case callPath.MatchString(p):
		sid := callPath.FindStringSubmatch(p)[2]
		switch r.Method {
		case http.MethodGet:
			c, ok := e.CallInfo(sid)
			if !ok {
				e.refuse(w, notFoundErr(p))
				return true
			}
			writeJSON(w, http.StatusOK, e.callJSON(c))
		case http.MethodPost:
			e.updateCall(w, r, sid)
		default:
			e.refuse(w, newAPIError(http.StatusMethodNotAllowed, 20004, "Method not allowed"))
		}
	case queuesPath.MatchString(p) && r.Method == http.MethodGet:
		e.listQueues(w, r)
	case queuePath.MatchString(p) && r.Method == http.MethodGet:
		q := e.queueBySid(queuePath.FindStringSubmatch(p)[2])
		if q == nil {
			e.refuse(w, notFoundErr(p))
			return true
		}
		writeJSON(w, http.StatusOK, e.queueJSON(q))
	case membersPath.MatchString(p) && r.Method == http.MethodGet:
		m := membersPath.FindStringSubmatch(p)
		q := e.queueBySid(m[2])
		if q == nil {
			e.refuse(w, notFoundErr(p))
			return true
		}
		e.voice.mu.Lock()
		list := []map[string]any{}
		for i, c := range q.members {
			list = append(list, e.memberJSON(q, c, i+1))
		}
		e.voice.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"queue_members": list, "page": 0, "page_size": 50, "start": 0, "end": len(list),
			"first_page_uri": p, "next_page_uri": nil, "previous_page_uri": nil, "uri": p})
	case recordingPath.MatchString(p) && r.Method == http.MethodDelete:
		// Twilio deletes a recording with DELETE on its .json (or bare) URI and answers 204;
		// a recording it does not hold (any more) is a 404.
		m := recordingPath.FindStringSubmatch(p)
		if m[3] != ".json" && m[3] != "" {
			e.refuse(w, newAPIError(http.StatusMethodNotAllowed, 20004, "Method not allowed"))
			return true
		}
		e.voice.mu.Lock()
		_, ok := e.voice.recordings[m[2]]
		delete(e.voice.recordings, m[2])
		e.voice.mu.Unlock()
		if !ok {
			e.refuse(w, notFoundErr(p))
			return true
		}
		w.WriteHeader(http.StatusNoContent)
	case recordingPath.MatchString(p) && r.Method == http.MethodGet:
		m := recordingPath.FindStringSubmatch(p)
		e.voice.mu.Lock()
		callSid, ok := e.voice.recordings[m[2]]
		e.voice.mu.Unlock()
		if !ok {
			e.refuse(w, notFoundErr(p))
			return true
		}
		switch m[3] {
		case ".json":
			writeJSON(w, http.StatusOK, map[string]any{"sid": m[2], "call_sid": callSid, "account_sid": e.opts.AccountSID, "status": "completed"})
		case ".wav", "":
			w.Header().Set("Content-Type", "audio/x-wav")
			_, _ = w.Write(fakeAudio("RIFF", m[2]))
		default:
			w.Header().Set("Content-Type", "audio/mpeg")
			_, _ = w.Write(fakeAudio("ID3", m[2]))
		}
	case memberPath.MatchString(p):
		m := memberPath.FindStringSubmatch(p)
		e.member(w, r, m[2], m[3])
	default:
		return false
	}
	return true
}

func notFoundErr(path string) apiError {
	return newAPIError(http.StatusNotFound, 20404, fmt.Sprintf("The requested resource %s was not found", path))
}

func (e *Emulator) queueBySid(sid string) *queue {
	e.voice.mu.Lock()
	defer e.voice.mu.Unlock()
	return e.voice.queues[sid]
}

func rfc2822(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC1123Z)
}

func (e *Emulator) callJSON(c Call) map[string]any {
	dur := any(nil)
	if !c.Ended.IsZero() {
		d := 0
		if !c.Answered.IsZero() {
			d = int(c.Ended.Sub(c.Answered).Round(time.Second) / time.Second)
		}
		dur = strconv.Itoa(d)
	}
	var parent any
	if c.ParentSid != "" {
		parent = c.ParentSid
	}
	return map[string]any{"sid": c.Sid, "account_sid": e.opts.AccountSID, "parent_call_sid": parent, "to": c.To, "from": c.From,
		"status": c.Status, "direction": c.Direction, "start_time": rfc2822(c.Answered), "end_time": rfc2822(c.Ended),
		"date_created": rfc2822(c.Started), "date_updated": rfc2822(time.Now()), "duration": dur, "api_version": APIVersion,
		"uri": "/2010-04-01/Accounts/" + e.opts.AccountSID + "/Calls/" + c.Sid + ".json"}
}

func (e *Emulator) queueJSON(q *queue) map[string]any {
	e.voice.mu.Lock()
	defer e.voice.mu.Unlock()
	return e.queueJSONLocked(q)
}

func (e *Emulator) queueJSONLocked(q *queue) map[string]any {
	return map[string]any{"sid": q.Sid, "account_sid": e.opts.AccountSID, "friendly_name": q.FriendlyName, "current_size": len(q.members),
		"max_size": q.MaxSize, "average_wait_time": q.averageWait(), "date_created": rfc2822(q.DateCreated),
		"date_updated": rfc2822(time.Now()), "uri": "/2010-04-01/Accounts/" + e.opts.AccountSID + "/Queues/" + q.Sid + ".json"}
}

func (e *Emulator) memberJSON(q *queue, c *call, pos int) map[string]any {
	return map[string]any{"call_sid": c.Sid, "queue_sid": q.Sid, "position": pos, "date_enqueued": rfc2822(c.queueJoined),
		"wait_time": int(time.Since(c.queueJoined) / time.Second),
		"uri":       "/2010-04-01/Accounts/" + e.opts.AccountSID + "/Queues/" + q.Sid + "/Members/" + c.Sid + ".json"}
}

func (e *Emulator) listQueues(w http.ResponseWriter, r *http.Request) {
	e.voice.mu.Lock()
	list := []map[string]any{}
	for _, q := range e.voice.byName {
		list = append(list, e.queueJSONLocked(q))
	}
	e.voice.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"queues": list, "page": 0, "page_size": 50, "start": 0, "end": len(list),
		"first_page_uri": r.URL.Path, "next_page_uri": nil, "previous_page_uri": nil, "uri": r.URL.Path})
}

// twimlOrURL reads Twiml, or Url and Method, as Twilio validates them on a call update.
func twimlOrURL(form url.Values) (instruction, *apiError) {
	if t := form.Get("Twiml"); t != "" {
		if _, err := parseTwiML(t); err != nil {
			ae := newAPIError(http.StatusBadRequest, 21220, "Invalid TwiML: "+err.Error())
			return instruction{}, &ae
		}
		return instruction{twiml: t}, nil
	}
	u := form.Get("Url")
	if u == "" {
		ae := newAPIError(http.StatusBadRequest, 21201, "No 'Url' or 'Twiml' parameter was provided")
		return instruction{}, &ae
	}
	if !absoluteHTTPURL(u) {
		ae := newAPIError(http.StatusBadRequest, 21205, fmt.Sprintf("Url is not a valid URL: %s", u))
		return instruction{}, &ae
	}
	m := strings.ToUpper(form.Get("Method"))
	if m == "" {
		m = http.MethodPost
	}
	if m != http.MethodPost && m != http.MethodGet {
		ae := newAPIError(http.StatusBadRequest, 21203, "Method must be GET or POST")
		return instruction{}, &ae
	}
	return instruction{url: u, method: m}, nil
}

func notInProgress() apiError {
	return newAPIError(http.StatusBadRequest, 21220, "Call is not in-progress. Cannot redirect.")
}

// updateCall redirects a live call to new TwiML, or ends it with Status=completed/canceled.
func (e *Emulator) updateCall(w http.ResponseWriter, r *http.Request, sid string) {
	if err := r.ParseForm(); err != nil {
		e.refuse(w, newAPIError(http.StatusBadRequest, 20001, "Unable to parse the request body: "+err.Error()))
		return
	}
	if _, ok := e.CallInfo(sid); !ok {
		e.refuse(w, notFoundErr(r.URL.Path))
		return
	}
	if st := r.PostForm.Get("Status"); st != "" {
		if st != "completed" && st != "canceled" {
			e.refuse(w, newAPIError(http.StatusBadRequest, 21218, "Invalid Status: "+st))
			return
		}
		if err := e.hangupREST(sid); err != nil {
			e.refuse(w, notInProgress())
			return
		}
	} else {
		ins, ae := twimlOrURL(r.PostForm)
		if ae != nil {
			e.refuse(w, *ae)
			return
		}
		if err := e.redirect(sid, ins); err != nil {
			e.refuse(w, notInProgress())
			return
		}
	}
	c, _ := e.CallInfo(sid)
	writeJSON(w, http.StatusOK, e.callJSON(c))
}

// member fetches or dequeues one queue member (by CallSid, or Front).
func (e *Emulator) member(w http.ResponseWriter, r *http.Request, queueSid, callSid string) {
	e.voice.mu.Lock()
	q := e.voice.queues[queueSid]
	var c *call
	pos := 0
	if q != nil {
		for i, m := range q.members {
			if callSid == "Front" && i == 0 || m.Sid == callSid {
				c, pos = m, i+1
				break
			}
		}
	}
	var snapshot map[string]any
	if c != nil {
		snapshot = e.memberJSON(q, c, pos)
	}
	e.voice.mu.Unlock()
	if c == nil {
		e.refuse(w, notFoundErr(r.URL.Path))
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, snapshot)
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			e.refuse(w, newAPIError(http.StatusBadRequest, 20001, "Unable to parse the request body: "+err.Error()))
			return
		}
		if r.PostForm.Get("Url") == "" {
			e.refuse(w, newAPIError(http.StatusBadRequest, 20001, "Missing required parameter Url in the post body"))
			return
		}
		ins, ae := twimlOrURL(url.Values{"Url": {r.PostForm.Get("Url")}, "Method": {r.PostForm.Get("Method")}})
		if ae != nil {
			e.refuse(w, *ae)
			return
		}
		if err := e.redirect(c.Sid, ins); err != nil {
			e.refuse(w, notFoundErr(r.URL.Path))
			return
		}
		writeJSON(w, http.StatusOK, snapshot)
	default:
		e.refuse(w, newAPIError(http.StatusMethodNotAllowed, 20004, "Method not allowed"))
	}
}

// createCall places an outbound call (a callback): it rings To until a test answers it.
func (e *Emulator) createCall(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		e.refuse(w, newAPIError(http.StatusBadRequest, 20001, "Unable to parse the request body: "+err.Error()))
		return
	}
	f := r.PostForm
	to, from := f.Get("To"), f.Get("From")
	switch {
	case to == "":
		e.refuse(w, newAPIError(http.StatusBadRequest, 21201, "No 'To' number is specified"))
		return
	case from == "":
		e.refuse(w, newAPIError(http.StatusBadRequest, 21213, "No 'From' number is specified"))
		return
	case !strings.HasPrefix(to, "client:") && !strings.HasPrefix(to, "sip:") && !e164Pattern.MatchString(to):
		e.refuse(w, newAPIError(http.StatusBadRequest, 21211, fmt.Sprintf("The 'To' number %s is not a valid phone number.", to)))
		return
	}
	if code := e.checkFrom(from); code != 0 {
		e.refuse(w, newAPIError(http.StatusBadRequest, 21210, fmt.Sprintf("The source phone number provided, %s, is not yet verified for your account.", from)))
		return
	}
	ins, ae := twimlOrURL(f)
	if ae != nil {
		e.refuse(w, *ae)
		return
	}
	cb := f.Get("StatusCallback")
	if cb != "" && !absoluteHTTPURL(cb) {
		e.refuse(w, newAPIError(http.StatusBadRequest, 21609, "StatusCallback is not a valid URL: "+cb))
		return
	}
	timeout := 60
	if t, err := strconv.Atoi(f.Get("Timeout")); err == nil && t > 0 {
		timeout = min(t, 600)
	}
	c := e.newCall(from, to, "outbound-api", "")
	c.statusCallback = cb
	e.startOutbound(c, ins, time.Duration(timeout)*time.Second)
	snap, _ := e.CallInfo(c.Sid)
	writeJSON(w, http.StatusCreated, e.callJSON(snap))
}

// fakeAudio is a recording's bytes: the format's magic and the recording's sid, so a test can
// tell which recording it got.
func fakeAudio(magic, sid string) []byte { return []byte(magic + "\x00emulated recording " + sid) }
