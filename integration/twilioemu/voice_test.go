package twilioemu

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// voiceApp is a tiny TwiML application: a menu, a queue with a wait document and an action, a
// <Dial> action, and a record of every signed request it got.
type voiceApp struct {
	t    *testing.T
	sig  Signer
	base string
	mu   sync.Mutex
	got  map[string][]url.Values
}

func (a *voiceApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	if !a.sig.Valid(a.base+r.URL.RequestURI(), r.PostForm, r.Header.Get("X-Twilio-Signature")) {
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	}
	a.mu.Lock()
	if a.got == nil {
		a.got = map[string][]url.Values{}
	}
	a.got[r.URL.Path] = append(a.got[r.URL.Path], r.PostForm)
	a.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	switch r.URL.Path {
	case "/voice":
		_, _ = fmt.Fprintf(w, `<Response><Gather numDigits="1" timeout="5" action="%s/menu"><Say>Premere 2</Say></Gather></Response>`, a.base)
	case "/menu":
		_, _ = fmt.Fprintf(w, `<Response><Say>Attenda</Say><Enqueue action="%s/queued" waitUrl="%s/wait">multe</Enqueue></Response>`, a.base, a.base)
	case "/wait":
		_, _ = fmt.Fprintf(w, `<Response><Say>Posizione %s</Say><Pause length="20"/></Response>`, r.PostForm.Get("QueuePosition"))
	case "/queued", "/status", "/leg":
		_, _ = io.WriteString(w, `<Response/>`)
	case "/dialed":
		_, _ = io.WriteString(w, `<Response><Say>Arrivederci</Say><Hangup/></Response>`)
	case "/whisper":
		_, _ = fmt.Fprintf(w, `<Response><Gather numDigits="1" timeout="1" action="%s/accept"><Say>Premere 1</Say></Gather><Hangup/></Response>`, a.base)
	case "/accept":
		_, _ = io.WriteString(w, `<Response/>`)
	default:
		http.NotFound(w, r)
	}
}

func (a *voiceApp) requests(path string) []url.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]url.Values(nil), a.got[path]...)
}

func restPost(t *testing.T, e *Emulator, base, path string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/2010-04-01/Accounts/"+e.AccountSID()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.AccountSID(), e.AuthToken())
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestVoiceQueueDialAndHangUp(t *testing.T) {
	e := New(Options{})
	defer func() {
		if err := e.Close(); err != nil {
			t.Log(err) // status callbacks still due at the end of the test are abandoned
		}
	}()
	emuURL, err := e.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	app := &voiceApp{t: t, sig: e.Signer()}
	srv := httptest.NewServer(app)
	defer srv.Close()
	app.base = srv.URL
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	sid, err := e.PlaceCall(IncomingCall{From: "+393331234567", To: "+390552768000", URL: srv.URL + "/voice", StatusCallback: srv.URL + "/status"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Press(ctx, sid, "2"); err != nil {
		t.Fatal(err)
	}
	queued, err := e.WaitCall(ctx, func(c Call) bool { return c.Sid == sid && c.Queue == "multe" })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.WaitCall(ctx, func(c Call) bool { return c.Sid == sid && len(c.Spoken) >= 3 }); err != nil {
		t.Fatal(err)
	}
	if got := queued.Spoken; got[0] != "Premere 2" || got[1] != "Attenda" {
		t.Fatalf("spoken %q", got)
	}
	// Bad updates are refused as Twilio refuses them.
	if code, body := restPost(t, e, emuURL, "/Calls/"+sid+".json", url.Values{"Url": {"not-a-url"}}); code != 400 || !strings.Contains(body, "21205") {
		t.Fatalf("relative Url: %d %s", code, body)
	}
	if code, _ := restPost(t, e, emuURL, "/Calls/"+sid+".json", url.Values{"Twiml": {"<Response><Dial><Fax>1</Fax></Dial></Response>"}}); code != 400 {
		t.Fatalf("invalid TwiML accepted: %d", code)
	}
	// The operator's browser is offered the call and lets it ring out; then a phone answers.
	twiml := fmt.Sprintf(`<Response><Dial timeout="1" action="%s/dialed"><Client statusCallbackEvent="answered" statusCallback="%s/leg">alice</Client></Dial></Response>`, srv.URL, srv.URL)
	if code, body := restPost(t, e, emuURL, "/Calls/"+sid+".json", url.Values{"Twiml": {twiml}}); code != 200 {
		t.Fatalf("update: %d %s", code, body)
	}
	if _, err := e.WaitRinging(ctx, "client:alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.WaitCall(ctx, func(c Call) bool { return c.Sid == sid && !c.Ended.IsZero() }); err != nil {
		t.Fatal(err)
	}
	dialed := app.requests("/dialed")
	if len(dialed) != 1 || dialed[0].Get("DialCallStatus") != "no-answer" {
		t.Fatalf("dial action %v", dialed)
	}
	q := app.requests("/queued")
	if len(q) != 1 || q[0].Get("QueueResult") != "redirected" || q[0].Get("QueueTime") == "" {
		t.Fatalf("enqueue action %v", q)
	}
	if w := app.requests("/wait"); len(w) == 0 || w[0].Get("QueuePosition") != "1" || w[0].Get("AvgQueueTime") == "" {
		t.Fatalf("wait requests %v", w)
	}
	st := app.requests("/status")
	if len(st) != 1 || st[0].Get("CallStatus") != "completed" {
		t.Fatalf("status callbacks %v", st)
	}

	// A second call: queued, dequeued through the member resource to a phone with a whisper,
	// answered and accepted, talks, the operator hangs up.
	sid2, _ := e.PlaceCall(IncomingCall{From: "+393339999999", To: "+390552768000", URL: srv.URL + "/voice", StatusCallback: srv.URL + "/status"})
	if err := e.Press(ctx, sid2, "2"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.WaitCall(ctx, func(c Call) bool { return c.Sid == sid2 && c.Queue == "multe" }); err != nil {
		t.Fatal(err)
	}
	e.voice.mu.Lock()
	qsid := e.voice.byName["multe"].Sid
	e.voice.mu.Unlock()
	if code, body := restPost(t, e, emuURL, "/Queues/"+qsid+"/Members/"+sid2+".json", url.Values{}); code != 400 || !strings.Contains(body, "Url") {
		t.Fatalf("dequeue without Url: %d %s", code, body)
	}
	twiml2 := fmt.Sprintf(`<Response><Dial timeout="5" action="%s/dialed"><Number url="%s/whisper">+390551111111</Number></Dial></Response>`, srv.URL, srv.URL)
	if code, body := restPost(t, e, emuURL, "/Calls/"+sid2+".json", url.Values{"Twiml": {twiml2}}); code != 200 {
		t.Fatalf("update: %d %s", code, body)
	}
	leg, err := e.WaitRinging(ctx, "+390551111111")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Answer(leg.Sid); err != nil {
		t.Fatal(err)
	}
	if err := e.Press(ctx, leg.Sid, "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.WaitCall(ctx, func(c Call) bool { return c.Sid == sid2 && c.BridgedTo == leg.Sid }); err != nil {
		t.Fatal(err)
	}
	if err := e.HangUp(leg.Sid); err != nil {
		t.Fatal(err)
	}
	final, err := e.WaitCall(ctx, func(c Call) bool { return c.Sid == sid2 && !c.Ended.IsZero() })
	if err != nil {
		t.Fatal(err)
	}
	if final.Spoken[len(final.Spoken)-1] != "Arrivederci" || final.DialResults[0] != "completed" {
		t.Fatalf("after the operator hung up: %+v", final)
	}
	if code, _ := restPost(t, e, emuURL, "/Calls/"+sid2+".json", url.Values{"Twiml": {"<Response/>"}}); code != 400 {
		t.Fatalf("update of an ended call: %d", code)
	}

	// A third caller hangs up while waiting: the action hears hangup.
	sid3, _ := e.PlaceCall(IncomingCall{From: "+393330000000", To: "+390552768000", URL: srv.URL + "/voice"})
	if err := e.Press(ctx, sid3, "2"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.WaitCall(ctx, func(c Call) bool { return c.Sid == sid3 && c.Queue == "multe" }); err != nil {
		t.Fatal(err)
	}
	if err := e.HangUp(sid3); err != nil {
		t.Fatal(err)
	}
	if _, err := e.WaitCall(ctx, func(c Call) bool { return c.Sid == sid3 && !c.Ended.IsZero() }); err != nil {
		t.Fatal(err)
	}
	if q := app.requests("/queued"); q[len(q)-1].Get("QueueResult") != "hangup" || q[len(q)-1].Get("CallSid") != sid3 {
		t.Fatalf("abandoned: %v", q[len(q)-1])
	}
}

// A recording is deleted as at Twilio: DELETE on its .json URI answers 204, then 404; the
// account's own credentials are required.
func TestRecordingDelete(t *testing.T) {
	e := New(Options{AccountSID: "AC" + strings.Repeat("a", 32), AuthToken: strings.Repeat("b", 32)})
	base, err := e.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	sid := NewSid("RE")
	e.voice.mu.Lock()
	e.voice.recordings[sid] = NewSid("CA")
	e.voice.mu.Unlock()
	del := func(user, pass string) int {
		req, _ := http.NewRequest(http.MethodDelete, base+"/2010-04-01/Accounts/"+e.AccountSID()+"/Recordings/"+sid+".json", nil)
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := del(e.AccountSID(), "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("wrong credentials: %d", code)
	}
	if _, held := e.Recordings()[sid]; !held {
		t.Fatal("deleted with wrong credentials")
	}
	if code := del(e.AccountSID(), e.AuthToken()); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	if _, held := e.Recordings()[sid]; held {
		t.Fatal("still held after its deletion")
	}
	if code := del(e.AccountSID(), e.AuthToken()); code != http.StatusNotFound {
		t.Fatalf("second delete: %d", code)
	}
}
