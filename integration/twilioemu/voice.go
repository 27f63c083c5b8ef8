package twilioemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The voice model. Each call runs its TwiML in a goroutine of its own, as Twilio's call
// processor does: it fetches documents from the gateway (signed like every webhook), speaks
// <Say> into the call's transcript, waits in <Gather> for digits a test presses, sits in an
// <Enqueue> queue running the wait URL until a REST update or a member dequeue takes it out
// (QueueResult=redirected) or the caller hangs up (hangup), and in <Dial> rings legs (Client,
// Number, Sip) a test answers, rejects or lets ring out (DialCallStatus completed, busy,
// no-answer). Status callbacks and the nouns' statusCallback events are posted signed.
//
// Time: Gather and Dial timeouts run in real seconds (tests configure short ones); <Pause> lasts
// its length times Options.PauseScale so a waiting caller's loop does not slow a test down.

// Call is what a test sees of one call (a copy).
type Call struct {
	Sid       string
	ParentSid string
	From, To  string
	// Direction is inbound, outbound-api (REST) or outbound-dial (a <Dial> leg).
	Direction string
	// Status: queued, ringing, in-progress, completed, busy, no-answer, canceled, failed.
	Status string
	// Queue is the friendly name of the queue the call waits in ("" when not queued).
	Queue string
	// Spoken is every <Say> the call heard, in order; Played every <Play> URL.
	Spoken []string
	Played []string
	// Gathering is true while a <Gather> waits for digits.
	Gathering bool
	// BridgedTo is the sid of the leg (or parent) this call talks with.
	BridgedTo string
	// QueueResults lists what each <Enqueue> ended with (redirected, hangup, leave, ...).
	QueueResults []string
	// DialResults lists each <Dial>'s DialCallStatus.
	DialResults []string
	// Params are a <Client> leg's <Parameter> values (what the Voice SDK calls customParameters).
	Params map[string]string
	// Errors are application errors (a webhook that failed or answered invalid TwiML).
	Errors                   []string
	Started, Answered, Ended time.Time
}

// IncomingCall describes a call a test places to the gateway.
type IncomingCall struct {
	From, To string
	// URL is the voice webhook as configured on the number (public URL + /webhooks/twilio/voice);
	// StatusCallback the number's status callback URL ("" for none).
	URL            string
	StatusCallback string
}

type control struct {
	kind   string // redirect, hangup, answer, reject
	target instruction
}

// instruction is what a call runs next: a URL to fetch (with extra parameters) or inline TwiML.
type instruction struct {
	url    string
	method string
	params url.Values
	twiml  string
}

type call struct {
	Call
	statusCallback string
	ctl            chan control
	digits         chan string
	done           chan struct{}
	// nounCallback is where a <Dial> leg reports its progress, and which events.
	nounCallback string
	nounEvents   map[string]bool
	queueJoined  time.Time
	queueSid     string
	finishing    bool
}

type queue struct {
	Sid          string
	FriendlyName string
	MaxSize      int
	DateCreated  time.Time
	members      []*call
	waits        []time.Duration // completed waits, for average_wait_time
}

type voiceState struct {
	mu      sync.Mutex
	calls   map[string]*call
	order   []*call
	queues  map[string]*queue // by sid
	byName  map[string]*queue
	changed chan struct{}
	wg      sync.WaitGroup
	// recordings maps a recording's sid to its call's.
	recordings map[string]string
}

func newVoiceState() *voiceState {
	return &voiceState{calls: map[string]*call{}, queues: map[string]*queue{}, byName: map[string]*queue{}, changed: make(chan struct{}),
		recordings: map[string]string{}}
}

// notify wakes every waiter; callers hold v.mu.
func (v *voiceState) notify() {
	close(v.changed)
	v.changed = make(chan struct{})
}

func (e *Emulator) newCall(from, to, direction, parent string) *call {
	c := &call{Call: Call{Sid: NewSid("CA"), ParentSid: parent, From: from, To: to, Direction: direction, Status: "queued", Started: time.Now()},
		ctl: make(chan control, 8), digits: make(chan string, 1), done: make(chan struct{})}
	v := e.voice
	v.mu.Lock()
	v.calls[c.Sid] = c
	v.order = append(v.order, c)
	v.notify()
	v.mu.Unlock()
	return c
}

// update changes a call under the lock and wakes waiters.
func (e *Emulator) update(c *call, f func(*call)) {
	e.voice.mu.Lock()
	f(c)
	e.voice.notify()
	e.voice.mu.Unlock()
}

// PlaceCall starts an incoming call to the gateway: Twilio fetches the number's voice URL and
// runs what it answers. It returns the call's sid.
func (e *Emulator) PlaceCall(in IncomingCall) (string, error) {
	if !absoluteHTTPURL(in.URL) {
		return "", fmt.Errorf("twilioemu: voice URL %q is not absolute", in.URL)
	}
	if in.StatusCallback != "" && !absoluteHTTPURL(in.StatusCallback) {
		return "", fmt.Errorf("twilioemu: status callback %q is not absolute", in.StatusCallback)
	}
	c := e.newCall(in.From, in.To, "inbound", "")
	c.statusCallback = in.StatusCallback
	e.update(c, func(c *call) { c.Status = "ringing" })
	e.start(c, instruction{url: in.URL, method: http.MethodPost})
	return c.Sid, nil
}

func (e *Emulator) start(c *call, first instruction) {
	e.voice.wg.Add(1)
	go func() {
		defer e.voice.wg.Done()
		e.run(c, first)
	}()
}

// run is the call processor: one document after another until the TwiML ends or the call is
// hung up, then the final status and its callback.
func (e *Emulator) run(c *call, ins instruction) {
	answer := func() {
		e.update(c, func(c *call) {
			if c.Status == "ringing" || c.Status == "queued" {
				c.Status = "in-progress"
				c.Answered = time.Now()
			}
		})
	}
	// An incoming call's first request says "ringing" (Twilio answers it with the TwiML); an
	// outbound call was answered by its party before its TwiML is fetched.
	if c.Direction != "inbound" {
		answer()
	}
	for {
		verbs, err := e.load(c, ins)
		answer()
		if err != nil {
			e.update(c, func(c *call) { c.Errors = append(c.Errors, err.Error()) })
			e.logf("twilioemu: call %s: %v", c.Sid, err)
			break
		}
		next, ok := e.execute(c, verbs)
		if !ok {
			break
		}
		ins = next
	}
	e.finish(c, "completed")
}

// finish ends a call once: its final status, the status callbacks, then Ended (so a test that
// saw Ended also sees the callbacks' effects).
func (e *Emulator) finish(c *call, status string) {
	var dur int
	already := false
	e.update(c, func(c *call) {
		if c.finishing {
			already = true
			return
		}
		c.finishing = true
		c.Status, c.Gathering, c.BridgedTo = status, false, ""
		if !c.Answered.IsZero() {
			dur = int(time.Since(c.Answered).Round(time.Second) / time.Second)
		}
	})
	if already {
		return
	}
	if c.statusCallback != "" {
		p := e.callParams(c)
		p.Set("CallDuration", strconv.Itoa(dur))
		p.Set("Duration", strconv.Itoa((dur+59)/60))
		e.post(c.statusCallback, p)
	}
	if c.nounCallback != "" && (c.nounEvents["completed"] || len(c.nounEvents) == 0) {
		p := e.callParams(c)
		p.Set("CallDuration", strconv.Itoa(dur))
		p.Set("CallbackSource", "call-progress-events")
		e.post(c.nounCallback, p)
	}
	e.update(c, func(c *call) {
		c.Ended = time.Now()
		close(c.done)
	})
}

// callParams are the fields Twilio sends with every request about a call.
func (e *Emulator) callParams(c *call) url.Values {
	e.voice.mu.Lock()
	p := url.Values{"CallSid": {c.Sid}, "From": {c.From}, "To": {c.To}, "CallStatus": {c.Status}, "Direction": {c.Direction}}
	if c.ParentSid != "" {
		p.Set("ParentCallSid", c.ParentSid)
	}
	e.voice.mu.Unlock()
	return FillVoice(p, e.opts.AccountSID)
}

// load fetches (or parses) a document for the call.
func (e *Emulator) load(c *call, ins instruction) ([]verb, error) {
	if ins.twiml != "" {
		return parseTwiML(ins.twiml)
	}
	p := e.callParams(c)
	for k, vs := range ins.params {
		p[k] = vs
	}
	body, err := e.fetch(ins.url, ins.method, p)
	if err != nil {
		return nil, err
	}
	return parseTwiML(body)
}

// fetch requests a TwiML document, signed; an answer other than 200 is Twilio's 11200.
func (e *Emulator) fetch(target, method string, p url.Values) (string, error) {
	if method == "" {
		method = http.MethodPost
	}
	var req *http.Request
	var err error
	signed := target
	if method == http.MethodGet {
		u, perr := url.Parse(target)
		if perr != nil {
			return "", fmt.Errorf("11100 invalid URL %q", target)
		}
		q := u.Query()
		for k, vs := range p {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
		signed = u.String()
		req, err = http.NewRequest(http.MethodGet, signed, nil)
		p = nil
	} else {
		req, err = http.NewRequest(http.MethodPost, target, strings.NewReader(p.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return "", fmt.Errorf("11100 invalid URL %q: %v", target, err)
	}
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("I-Twilio-Idempotency-Token", NewSid(""))
	req.Header.Set("X-Twilio-Signature", e.sig.Sign(signed, p))
	resp, err := e.cbClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("11200 HTTP retrieval failure %s: %v", target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxFormBytes))
	if err != nil {
		return "", fmt.Errorf("11200 HTTP retrieval failure %s: %v", target, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("11200 HTTP retrieval failure %s: status %d: %s", target, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return string(b), nil
}

// post sends a callback whose answer is not TwiML (status callbacks, actions of a call that
// already moved on).
func (e *Emulator) post(target string, p url.Values) {
	if _, err := e.fetch(target, http.MethodPost, p); err != nil {
		e.logf("twilioemu: callback %s: %v", target, err)
	}
}

// resolve makes a verb's URL absolute against the document's base ("" stays "").
func resolve(base, ref string) string {
	if ref == "" {
		return ""
	}
	b, err := url.Parse(base)
	if err != nil {
		return ref
	}
	r, err := b.Parse(ref)
	if err != nil {
		return ref
	}
	return r.String()
}

// interrupted is how a wait ended early: a REST update or a hang-up.
type interrupted struct {
	redirect *instruction
}

// wait blocks for d (or forever when d < 0) unless the call is redirected or hung up.
func (e *Emulator) wait(c *call, d time.Duration) *interrupted {
	var timer <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-timer:
		return nil
	case ctl := <-c.ctl:
		return e.interruption(ctl)
	}
}

func (e *Emulator) interruption(ctl control) *interrupted {
	if ctl.kind == "redirect" {
		t := ctl.target
		return &interrupted{redirect: &t}
	}
	return &interrupted{}
}

// pending reports an interruption that arrived while a document was being fetched.
func (e *Emulator) pending(c *call) *interrupted {
	select {
	case ctl := <-c.ctl:
		return e.interruption(ctl)
	default:
		return nil
	}
}

// execute runs one document. It returns the next instruction, or false when the call ends.
func (e *Emulator) execute(c *call, verbs []verb) (instruction, bool) {
	docURL := ""
	if it := e.pending(c); it != nil {
		if it.redirect != nil {
			return *it.redirect, true
		}
		return instruction{}, false
	}
	for _, v := range verbs {
		switch v.Name {
		case "Say":
			e.update(c, func(c *call) { c.Spoken = append(c.Spoken, v.Text) })
		case "Play":
			e.update(c, func(c *call) { c.Played = append(c.Played, v.Text) })
		case "Pause":
			n, _ := strconv.Atoi(v.attr("length", "1"))
			if it := e.wait(c, time.Duration(float64(n)*float64(time.Second)*e.opts.PauseScale)); it != nil {
				return e.after(it)
			}
		case "Redirect":
			return instruction{url: resolve(docURL, v.Text), method: v.attr("method", http.MethodPost)}, true
		case "Hangup", "Reject":
			return instruction{}, false
		case "Leave":
			// Only meaningful in a queue's wait document; execute handles it there.
			return instruction{}, false
		case "Gather":
			next, ok, fell := e.gather(c, v)
			if !fell {
				return next, ok
			}
		case "Record":
			p := url.Values{"RecordingSid": {NewSid("RE")}, "RecordingDuration": {"3"}}
			p.Set("RecordingUrl", e.URL()+"/2010-04-01/Accounts/"+e.opts.AccountSID+"/Recordings/"+p.Get("RecordingSid"))
			if a := v.attr("action", ""); a != "" {
				return instruction{url: a, method: v.attr("method", http.MethodPost), params: p}, true
			}
		case "Enqueue":
			next, ok, fell := e.enqueue(c, v)
			if !fell {
				return next, ok
			}
		case "Dial":
			next, ok, fell := e.dial(c, v)
			if !fell {
				return next, ok
			}
		}
	}
	return instruction{}, false
}

func (e *Emulator) after(it *interrupted) (instruction, bool) {
	if it.redirect != nil {
		return *it.redirect, true
	}
	return instruction{}, false
}

// gather speaks its prompts and waits for digits. fell is true when no digits came and the
// document goes on with the next verb.
func (e *Emulator) gather(c *call, v verb) (next instruction, ok, fell bool) {
	for _, n := range v.Children {
		if n.Name == "Say" {
			e.update(c, func(c *call) { c.Spoken = append(c.Spoken, n.Text) })
		}
	}
	timeout, _ := strconv.Atoi(v.attr("timeout", "5"))
	e.update(c, func(c *call) { c.Gathering = true })
	defer e.update(c, func(c *call) { c.Gathering = false })
	t := time.NewTimer(time.Duration(timeout) * time.Second)
	defer t.Stop()
	select {
	case d := <-c.digits:
		a := v.attr("action", "")
		if a == "" {
			return instruction{}, false, true
		}
		return instruction{url: a, method: v.attr("method", http.MethodPost), params: url.Values{"Digits": {d}, "FinishedOnKey": {""}}}, true, false
	case ctl := <-c.ctl:
		n, o := e.after(e.interruption(ctl))
		return n, o, false
	case <-t.C:
		return instruction{}, false, true
	}
}

// queueFor finds or creates a queue by its friendly name.
func (e *Emulator) queueFor(name string) *queue {
	v := e.voice
	v.mu.Lock()
	defer v.mu.Unlock()
	q := v.byName[name]
	if q == nil {
		q = &queue{Sid: NewSid("QU"), FriendlyName: name, MaxSize: 100, DateCreated: time.Now()}
		v.byName[name] = q
		v.queues[q.Sid] = q
	}
	return q
}

// leaveQueue takes the call out of its queue and returns how long it waited.
func (e *Emulator) leaveQueue(c *call, result string) time.Duration {
	v := e.voice
	v.mu.Lock()
	defer v.mu.Unlock()
	waited := time.Since(c.queueJoined)
	if q := v.queues[c.queueSid]; q != nil {
		for i, m := range q.members {
			if m == c {
				q.members = append(q.members[:i], q.members[i+1:]...)
				break
			}
		}
		q.waits = append(q.waits, waited)
	}
	c.Queue, c.queueSid = "", ""
	c.QueueResults = append(c.QueueResults, result)
	v.notify()
	return waited
}

func (q *queue) averageWait() int {
	if len(q.waits) == 0 {
		return 0
	}
	var sum time.Duration
	for _, w := range q.waits {
		sum += w
	}
	return int((sum / time.Duration(len(q.waits))).Round(time.Second) / time.Second)
}

// enqueue puts the call in a queue and runs the wait URL until something takes it out.
func (e *Emulator) enqueue(c *call, v verb) (next instruction, ok, fell bool) {
	q := e.queueFor(v.Text)
	e.update(c, func(c *call) {
		q.members = append(q.members, c)
		c.Queue, c.queueSid, c.queueJoined = q.FriendlyName, q.Sid, time.Now()
	})
	action, actionMethod := v.attr("action", ""), v.attr("method", http.MethodPost)
	waitURL, waitMethod := v.attr("waitUrl", ""), v.attr("waitUrlMethod", http.MethodPost)
	report := func(result string) url.Values {
		waited := e.leaveQueue(c, result)
		return url.Values{"QueueResult": {result}, "QueueSid": {q.Sid}, "QueueTime": {strconv.Itoa(int(waited.Round(time.Second) / time.Second))}}
	}
	for {
		var it *interrupted
		leave := false
		if waitURL == "" {
			it = e.wait(c, -1)
		} else {
			e.voice.mu.Lock()
			pos := 0
			for i, m := range q.members {
				if m == c {
					pos = i + 1
				}
			}
			p := url.Values{"QueueSid": {q.Sid}, "QueuePosition": {strconv.Itoa(pos)}, "CurrentQueueSize": {strconv.Itoa(len(q.members))},
				"QueueTime": {strconv.Itoa(int(time.Since(c.queueJoined) / time.Second))}, "AvgQueueTime": {strconv.Itoa(q.averageWait())}}
			e.voice.mu.Unlock()
			it, leave = e.runWait(c, instruction{url: waitURL, method: waitMethod, params: p})
		}
		switch {
		case leave:
			p := report("leave")
			if action == "" {
				return instruction{}, false, true
			}
			return instruction{url: action, method: actionMethod, params: p}, true, false
		case it != nil && it.redirect != nil:
			p := report("redirected")
			if action != "" {
				// The call already has its new TwiML: the action's answer is not run.
				e.post(action, mergeParams(e.callParams(c), p))
			}
			return *it.redirect, true, false
		case it != nil:
			p := report("hangup")
			if action != "" {
				e.post(action, mergeParams(e.callParams(c), p))
			}
			return instruction{}, false, false
		}
	}
}

func mergeParams(a, b url.Values) url.Values {
	for k, vs := range b {
		a[k] = vs
	}
	return a
}

// runWait runs one pass of the queue's wait document (and the documents its <Gather> and
// <Redirect> lead to). leave is true when it said <Leave/>.
func (e *Emulator) runWait(c *call, ins instruction) (it *interrupted, leave bool) {
	for hops := 0; hops < 10; hops++ {
		verbs, err := e.load(c, ins)
		if err != nil {
			e.update(c, func(c *call) { c.Errors = append(c.Errors, err.Error()) })
			// Twilio keeps the caller in the queue with its default music.
			return e.wait(c, time.Duration(float64(time.Second)*e.opts.PauseScale*10)), false
		}
		if it := e.pending(c); it != nil {
			return it, false
		}
		var next *instruction
		for _, v := range verbs {
			switch v.Name {
			case "Say":
				e.update(c, func(c *call) { c.Spoken = append(c.Spoken, v.Text) })
			case "Play":
				e.update(c, func(c *call) { c.Played = append(c.Played, v.Text) })
			case "Pause":
				n, _ := strconv.Atoi(v.attr("length", "1"))
				if it := e.wait(c, time.Duration(float64(n)*float64(time.Second)*e.opts.PauseScale)); it != nil {
					return it, false
				}
			case "Leave":
				return nil, true
			case "Hangup":
				return &interrupted{}, false
			case "Redirect":
				next = &instruction{url: v.Text, method: v.attr("method", http.MethodPost)}
			case "Gather":
				n, ok, fell := e.gather(c, v)
				switch {
				case fell:
					continue
				case !ok:
					return &interrupted{}, false
				case n.url != "" && n.params.Get("Digits") != "":
					next = &n
				default:
					return &interrupted{redirect: &n}, false
				}
			}
			if next != nil {
				break
			}
		}
		if next == nil {
			return nil, false
		}
		ins = *next
	}
	return nil, false
}

// dialTarget is one noun of a <Dial>.
type dialTarget struct {
	to                  string
	params              map[string]string
	whisper, whisperHow string
	callback            string
	events              map[string]bool
}

// dial rings the nouns of a <Dial> and bridges the first that answers.
func (e *Emulator) dial(c *call, v verb) (next instruction, ok, fell bool) {
	var targets []dialTarget
	if len(v.Children) == 0 && v.Text != "" {
		targets = append(targets, dialTarget{to: v.Text})
	}
	for _, n := range v.Children {
		t := dialTarget{to: n.Text, whisper: n.attr("url", ""), whisperHow: n.attr("method", http.MethodPost), callback: n.attr("statusCallback", ""), events: map[string]bool{}}
		for _, ev := range strings.Fields(n.attr("statusCallbackEvent", "")) {
			t.events[ev] = true
		}
		switch n.Name {
		case "Client":
			// <Client>alice</Client>, or <Client><Identity>alice</Identity><Parameter .../></Client>.
			id := n.Text
			for _, ch := range n.Children {
				switch ch.Name {
				case "Identity":
					id = ch.Text
				case "Parameter":
					if t.params == nil {
						t.params = map[string]string{}
					}
					t.params[ch.attr("name", "")] = ch.attr("value", "")
				}
			}
			if id == "" {
				e.update(c, func(c *call) { c.Errors = append(c.Errors, "13214 Dial: <Client> without an identity") })
				continue
			}
			t.to = "client:" + strings.TrimPrefix(id, "client:")
		case "Number":
			if !e164Pattern.MatchString(n.Text) {
				e.update(c, func(c *call) { c.Errors = append(c.Errors, "13223 Dial: invalid phone number "+n.Text) })
				continue
			}
		case "Sip":
			if !strings.HasPrefix(n.Text, "sip:") {
				e.update(c, func(c *call) { c.Errors = append(c.Errors, "13224 Dial: invalid SIP URI "+n.Text) })
				continue
			}
		default:
			e.update(c, func(c *call) { c.Errors = append(c.Errors, "emulator: <Dial><"+n.Name+"> is not modelled") })
			continue
		}
		targets = append(targets, t)
	}
	timeout, _ := strconv.Atoi(v.attr("timeout", "30"))
	callerID := v.attr("callerId", c.To)
	legs := make([]*call, len(targets))
	for i, t := range targets {
		leg := e.newCall(callerID, t.to, "outbound-dial", c.Sid)
		e.update(leg, func(l *call) { l.nounCallback, l.nounEvents, l.Params = t.callback, t.events, t.params })
		legs[i] = leg
		e.nounEvent(leg, "initiated")
		e.update(leg, func(l *call) { l.Status = "ringing" })
		e.nounEvent(leg, "ringing")
	}
	// Each leg's controls (answer, reject, hang-up) come to one channel while the legs live.
	type legControl struct {
		i   int
		ctl control
	}
	merged := make(chan legControl, 8)
	for i, l := range legs {
		go func() {
			for {
				select {
				case ctl := <-l.ctl:
					merged <- legControl{i, ctl}
				case <-l.done:
					return
				}
			}
		}()
	}
	status := "no-answer"
	var bridged *call
	timer := time.NewTimer(time.Duration(timeout) * time.Second)
	defer timer.Stop()
	rejected := 0
	var parentGone *interrupted
ringing:
	for bridged == nil && rejected < len(legs) {
		select {
		case <-timer.C:
			break ringing
		case ctl := <-c.ctl:
			parentGone = e.interruption(ctl)
			status = "canceled"
			break ringing
		case lc := <-merged:
			l := legs[lc.i]
			switch lc.ctl.kind {
			case "answer":
				if e.whisper(l, targets[lc.i]) {
					bridged = l
				} else {
					rejected++
					e.finish(l, "completed")
				}
			case "reject", "hangup":
				rejected++
				e.finish(l, "busy")
			}
		}
	}
	if bridged == nil && rejected == len(legs) && len(legs) > 0 && parentGone == nil {
		status = "busy"
		for _, l := range legs {
			if !l.Answered.IsZero() {
				// Answered but the whisper was not accepted: nobody took the call.
				status = "no-answer"
			}
		}
	}
	for _, l := range legs {
		if l != bridged {
			e.finish(l, map[bool]string{true: "canceled", false: "no-answer"}[parentGone != nil])
		}
	}
	dialDur := 0
	if bridged != nil {
		status = "completed"
		e.update(c, func(c *call) { c.BridgedTo = bridged.Sid })
		e.update(bridged, func(l *call) { l.BridgedTo = c.Sid })
		start := time.Now()
	talking:
		for {
			select {
			case ctl := <-c.ctl:
				parentGone = e.interruption(ctl)
				break talking
			case lc := <-merged:
				if legs[lc.i] == bridged && lc.ctl.kind == "hangup" {
					break talking
				}
			}
		}
		dialDur = int(time.Since(start).Round(time.Second) / time.Second)
		e.finish(bridged, "completed")
		e.update(c, func(c *call) { c.BridgedTo = "" })
		if strings.HasPrefix(v.attr("record", ""), "record-from-answer") {
			e.recordDial(c, v, dialDur)
		}
	}
	e.update(c, func(c *call) { c.DialResults = append(c.DialResults, status) })
	action := v.attr("action", "")
	if parentGone != nil && parentGone.redirect != nil {
		// A REST update moved the call on: Twilio does not request the <Dial action>.
		return *parentGone.redirect, true, false
	}
	p := url.Values{"DialCallStatus": {status}, "DialCallDuration": {strconv.Itoa(dialDur)}}
	if bridged != nil {
		p.Set("DialCallSid", bridged.Sid)
	} else if len(legs) > 0 {
		p.Set("DialCallSid", legs[0].Sid)
	}
	if parentGone != nil {
		if action != "" {
			e.post(action, mergeParams(e.callParams(c), p))
		}
		return instruction{}, false, false
	}
	if action == "" {
		return instruction{}, false, true
	}
	return instruction{url: action, method: v.attr("method", http.MethodPost), params: p}, true, false
}

// whisper answers a leg: its statusCallback "answered", then the noun's url document run on the
// called party before the bridge. It reports whether the parties are connected: a whisper that
// hangs up (nobody pressed the key a voicemail cannot press) leaves the caller unconnected and
// the <Dial> reports no-answer.
func (e *Emulator) whisper(l *call, t dialTarget) bool {
	e.update(l, func(l *call) { l.Status, l.Answered = "in-progress", time.Now() })
	e.nounEvent(l, "answered")
	if t.whisper == "" {
		return true
	}
	ins := instruction{url: t.whisper, method: t.whisperHow}
	for hops := 0; hops < 5; hops++ {
		verbs, err := e.load(l, ins)
		if err != nil {
			e.update(l, func(l *call) { l.Errors = append(l.Errors, err.Error()) })
			return false
		}
		var next *instruction
		for _, v := range verbs {
			switch v.Name {
			case "Say":
				e.update(l, func(l *call) { l.Spoken = append(l.Spoken, v.Text) })
			case "Hangup", "Reject":
				return false
			case "Redirect":
				next = &instruction{url: v.Text, method: v.attr("method", http.MethodPost)}
			case "Gather":
				n, ok, fell := e.gather(l, v)
				if !fell {
					if !ok {
						return false
					}
					next = &n
				}
			}
			if next != nil {
				break
			}
		}
		if next == nil {
			return true
		}
		ins = *next
	}
	return false
}

// nounEvent posts a leg's progress to its noun's statusCallback when that event was asked for.
func (e *Emulator) nounEvent(l *call, event string) {
	if l.nounCallback == "" || !l.nounEvents[event] {
		return
	}
	p := e.callParams(l)
	p.Set("CallbackSource", "call-progress-events")
	p.Set("SequenceNumber", strconv.Itoa(len(event)))
	e.post(l.nounCallback, p)
}

// send delivers a control to a call; false when the call has ended.
func (e *Emulator) send(sid string, ctl control) error {
	e.voice.mu.Lock()
	c := e.voice.calls[sid]
	e.voice.mu.Unlock()
	if c == nil {
		return fmt.Errorf("twilioemu: no call %s", sid)
	}
	select {
	case <-c.done:
		return fmt.Errorf("twilioemu: call %s has ended", sid)
	default:
	}
	select {
	case c.ctl <- ctl:
		return nil
	default:
		return fmt.Errorf("twilioemu: call %s is not listening", sid)
	}
}

// Press sends digits to a call's current <Gather>, waiting until one listens.
func (e *Emulator) Press(ctx context.Context, sid, digits string) error {
	if _, err := e.WaitCall(ctx, func(c Call) bool { return c.Sid == sid && (c.Gathering || !c.Ended.IsZero()) }); err != nil {
		return fmt.Errorf("twilioemu: press %s on %s: no gather: %w", digits, sid, err)
	}
	e.voice.mu.Lock()
	c := e.voice.calls[sid]
	e.voice.mu.Unlock()
	select {
	case c.digits <- digits:
		return nil
	case <-c.done:
		return fmt.Errorf("twilioemu: call %s has ended", sid)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Answer picks up a ringing leg (a <Dial> noun or an outbound call).
func (e *Emulator) Answer(sid string) error { return e.send(sid, control{kind: "answer"}) }

// Reject declines a ringing leg (busy).
func (e *Emulator) Reject(sid string) error { return e.send(sid, control{kind: "reject"}) }

// HangUp ends a call from its party's side.
func (e *Emulator) HangUp(sid string) error { return e.send(sid, control{kind: "hangup"}) }

// CallInfo returns a copy of one call.
func (e *Emulator) CallInfo(sid string) (Call, bool) {
	e.voice.mu.Lock()
	defer e.voice.mu.Unlock()
	c, ok := e.voice.calls[sid]
	if !ok {
		return Call{}, false
	}
	return c.snapshot(), true
}

func (c *call) snapshot() Call {
	s := c.Call
	s.Spoken = append([]string(nil), c.Spoken...)
	s.Played = append([]string(nil), c.Played...)
	s.QueueResults = append([]string(nil), c.QueueResults...)
	s.DialResults = append([]string(nil), c.DialResults...)
	s.Errors = append([]string(nil), c.Errors...)
	if c.Params != nil {
		s.Params = make(map[string]string, len(c.Params))
		for k, v := range c.Params {
			s.Params[k] = v
		}
	}
	return s
}

// Calls returns every call in creation order.
func (e *Emulator) Calls() []Call {
	e.voice.mu.Lock()
	defer e.voice.mu.Unlock()
	out := make([]Call, len(e.voice.order))
	for i, c := range e.voice.order {
		out[i] = c.snapshot()
	}
	return out
}

// WaitCall blocks until a call satisfies match and returns it.
func (e *Emulator) WaitCall(ctx context.Context, match func(Call) bool) (Call, error) {
	for {
		e.voice.mu.Lock()
		for _, c := range e.voice.order {
			if s := c.snapshot(); match(s) {
				e.voice.mu.Unlock()
				return s, nil
			}
		}
		ch := e.voice.changed
		e.voice.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Call{}, ctx.Err()
		}
	}
}

// WaitRinging waits for a leg ringing to `to` (client:alice, +39..., sip:...) and returns it.
func (e *Emulator) WaitRinging(ctx context.Context, to string) (Call, error) {
	return e.WaitCall(ctx, func(c Call) bool { return c.To == to && c.Status == "ringing" })
}

// ErrCallEnded is returned by REST updates of a call that is over (Twilio's 21220).
var ErrCallEnded = errors.New("call is not in-progress")

// redirect hands a call new TwiML (REST update or member dequeue).
func (e *Emulator) redirect(sid string, ins instruction) error {
	e.voice.mu.Lock()
	c := e.voice.calls[sid]
	e.voice.mu.Unlock()
	if c == nil {
		return ErrCallEnded
	}
	select {
	case <-c.done:
		return ErrCallEnded
	default:
	}
	select {
	case c.ctl <- control{kind: "redirect", target: ins}:
		return nil
	default:
		return ErrCallEnded
	}
}

// hangupREST ends a call by REST (Status=completed or canceled).
func (e *Emulator) hangupREST(sid string) error {
	e.voice.mu.Lock()
	c := e.voice.calls[sid]
	e.voice.mu.Unlock()
	if c == nil {
		return ErrCallEnded
	}
	select {
	case <-c.done:
		return ErrCallEnded
	case c.ctl <- control{kind: "hangup"}:
		return nil
	default:
		return ErrCallEnded
	}
}

// startOutbound places a REST-created call: it rings To until answered (then runs its TwiML),
// rejected (busy) or timed out (no-answer).
func (e *Emulator) startOutbound(c *call, ins instruction, timeout time.Duration) {
	e.update(c, func(c *call) { c.Status = "ringing" })
	e.voice.wg.Add(1)
	go func() {
		defer e.voice.wg.Done()
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case ctl := <-c.ctl:
			switch ctl.kind {
			case "answer":
				e.run(c, ins)
			case "redirect":
				e.run(c, ctl.target)
			default:
				e.finish(c, map[bool]string{true: "busy", false: "canceled"}[ctl.kind == "reject"])
			}
		case <-t.C:
			e.finish(c, "no-answer")
		}
	}()
}

// hangUpAll ends every live call (the emulator closes) and waits for their processors.
func (e *Emulator) hangUpAll() {
	e.voice.mu.Lock()
	live := append([]*call{}, e.voice.order...)
	e.voice.mu.Unlock()
	for _, c := range live {
		select {
		case <-c.done:
		case c.ctl <- control{kind: "hangup"}:
		default:
		}
	}
	done := make(chan struct{})
	go func() { e.voice.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
}

// recordDial keeps the recording of a bridged <Dial record=...> and posts its
// recordingStatusCallback, as Twilio does once the recording is ready.
func (e *Emulator) recordDial(c *call, v verb, seconds int) {
	sid := NewSid("RE")
	e.voice.mu.Lock()
	e.voice.recordings[sid] = c.Sid
	e.voice.mu.Unlock()
	cb := v.attr("recordingStatusCallback", "")
	if cb == "" {
		return
	}
	p := url.Values{"AccountSid": {e.opts.AccountSID}, "CallSid": {c.Sid}, "RecordingSid": {sid},
		"RecordingUrl":    {e.URL() + "/2010-04-01/Accounts/" + e.opts.AccountSID + "/Recordings/" + sid},
		"RecordingStatus": {"completed"}, "RecordingDuration": {strconv.Itoa(seconds)}, "RecordingChannels": {"2"},
		"RecordingSource": {"DialVerb"}}
	e.post(cb, p)
}

// Recordings lists the sids of the recordings made, with their calls.
func (e *Emulator) Recordings() map[string]string {
	e.voice.mu.Lock()
	defer e.voice.mu.Unlock()
	out := make(map[string]string, len(e.voice.recordings))
	for k, v := range e.voice.recordings {
		out[k] = v
	}
	return out
}
