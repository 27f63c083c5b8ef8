package twilio

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/templates"
)

// offerDesk is a CallDesk whose offers are stale unless current names them.
type offerDesk struct {
	current string
	mu      sync.Mutex
	missed  []string // the offers CallMissed was told of
	queued  chan string
}

func (d *offerDesk) CallQueued(_ context.Context, contactID string) { d.queued <- contactID }
func (d *offerDesk) CallMissed(_ context.Context, _, _, offer string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.missed = append(d.missed, offer)
	return offer == d.current, nil
}
func (d *offerDesk) CallbackRequested(context.Context, string) {}
func (d *offerDesk) CallAnsweredBy(context.Context, string, string) (string, error) {
	return "", nil
}
func (d *offerDesk) CallRecorded(context.Context, string, string) error { return nil }
func (d *offerDesk) CallInfo(context.Context, string) (string, string) {
	return "contravvenzioni", "Chiamata per contravvenzioni"
}

// answerSink refuses the answers of every offer but current, as the store does.
type answerSink struct {
	recordingSink
	current string
	mu      sync.Mutex
	events  []channels.CallEvent
}

func (s *answerSink) UpdateCall(_ context.Context, _ channels.Kind, _ string, ev channels.CallEvent) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, ev)
	if ev.Offer != s.current {
		return "", channels.ErrStaleOffer
	}
	return "c1", nil
}

func offerServer(t *testing.T, desk CallDesk, sink *answerSink) func(path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	text, err := templates.ParseText()
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWebhooks(WebhookOptions{AuthToken: sidsToken, AccountSID: sidsAccount, PublicURL: sidsPublic, Sink: sink, Calls: sink,
		Text: text, Desk: desk})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) { _ = httperr.Write(c, err) }
	w.Register(e)
	return func(path string, form url.Values) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", Signature(sidsToken, sidsPublic+path, form))
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
}

const (
	offerCallSid = "CA0123456789abcdef0123456789abcdef"
	offerLegSid  = "CAfedcba9876543210fedcba9876543210"
)

// A <Dial action> about an offer that expired meanwhile changes nothing and offers the call to
// nobody: the caller, if Twilio still waits for this answer, goes back to the queue. The
// standing offer's own <Dial action> sends the call on to the next operator.
func TestDialActionOfAnExpiredOfferOnlyRequeuesTheCaller(t *testing.T) {
	desk := &offerDesk{current: "200", queued: make(chan string, 4)}
	post := offerServer(t, desk, &answerSink{current: "200"})
	form := url.Values{"AccountSid": {sidsAccount}, "CallSid": {offerCallSid}, "DialCallStatus": {"no-answer"}}
	rec := post("/webhooks/twilio/voice/dialed?contact=c1&offer=100&operator=anna", form)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<Enqueue") {
		t.Fatalf("stale <Dial action>: %d %s; want 200 with the caller enqueued", rec.Code, rec.Body)
	}
	select {
	case id := <-desk.queued:
		t.Fatalf("the stale offer's news offered %s again", id)
	case <-time.After(100 * time.Millisecond):
	}
	rec = post("/webhooks/twilio/voice/dialed?contact=c1&offer=200&operator=anna", form)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<Enqueue") {
		t.Fatalf("current <Dial action>: %d %s", rec.Code, rec.Body)
	}
	select {
	case id := <-desk.queued:
		if id != "c1" {
			t.Fatalf("offered %s", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the missed call was not offered to the next operator")
	}
	if got := strings.Join(desk.missed, ","); got != "100,200" {
		t.Fatalf("CallMissed was told of offers %s; want 100,200", got)
	}
}

// An operator who presses 1 on the whisper of an offer that expired is hung up, not connected;
// so is a browser that answers such an offer (its <Client url> document hangs the leg up before
// Twilio bridges it). The standing offer's answers connect.
func TestAnswersOfAnExpiredOfferAreNotTaken(t *testing.T) {
	sink := &answerSink{current: "200"}
	post := offerServer(t, &offerDesk{current: "200", queued: make(chan string, 4)}, sink)
	accept := url.Values{"AccountSid": {sidsAccount}, "CallSid": {offerLegSid}, "ParentCallSid": {offerCallSid}, "Digits": {"1"}}
	rec := post("/webhooks/twilio/voice/whisper/accept?contact=c1&offer=100&operator=anna", accept)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<Hangup/>") {
		t.Fatalf("stale whisper accept: %d %s; want the operator's leg hung up", rec.Code, rec.Body)
	}
	rec = post("/webhooks/twilio/voice/whisper/accept?contact=c1&offer=200&operator=anna", accept)
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "<Hangup/>") {
		t.Fatalf("current whisper accept: %d %s; want connected", rec.Code, rec.Body)
	}
	leg := url.Values{"AccountSid": {sidsAccount}, "CallSid": {offerLegSid}, "ParentCallSid": {offerCallSid}, "CallStatus": {"in-progress"}}
	if rec := post("/webhooks/twilio/voice/leg?contact=c1&offer=100&operator=anna", leg); rec.Code != http.StatusOK ||
		!strings.Contains(rec.Body.String(), "<Hangup/>") {
		t.Fatalf("stale browser answer: %d %s; want the browser's leg hung up", rec.Code, rec.Body)
	}
	if rec := post("/webhooks/twilio/voice/leg?contact=c1&offer=200&operator=anna", leg); rec.Code != http.StatusOK ||
		strings.Contains(rec.Body.String(), "<Hangup/>") {
		t.Fatalf("current browser answer: %d %s; want connected", rec.Code, rec.Body)
	}
	var offers []string
	for _, ev := range sink.events {
		if ev.Operator != "anna" || ev.Status != "in-progress" {
			t.Fatalf("answer event %+v", ev)
		}
		offers = append(offers, ev.Offer)
	}
	if got := strings.Join(offers, ","); got != "100,200,100,200" {
		t.Fatalf("answers carried offers %s; want 100,200,100,200", got)
	}
}

// The whisper's accept URL carries the offer the whisper belongs to.
func TestWhisperCarriesTheOffer(t *testing.T) {
	post := offerServer(t, &offerDesk{queued: make(chan string, 1)}, &answerSink{})
	rec := post("/webhooks/twilio/voice/whisper?contact=c1&offer=300&operator=anna", url.Values{"AccountSid": {sidsAccount},
		"CallSid": {offerLegSid}})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "offer=300") {
		t.Fatalf("whisper: %d %s; want the accept URL to name offer 300", rec.Code, rec.Body)
	}
}

// Every callback URL of an offer's <Dial> names the offer.
func TestOfferNamesItselfInEveryCallbackURL(t *testing.T) {
	var mu sync.Mutex
	var docs []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		mu.Lock()
		docs = append(docs, r.PostForm.Get("Twiml"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"sid":"` + offerCallSid + `","status":"in-progress"}`))
	}))
	defer api.Close()
	text, err := templates.ParseText()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCalls(CallsOptions{AccountSID: sidsAccount, AuthToken: "token0", APIBaseURL: api.URL, PublicURL: sidsPublic,
		RingSeconds: 20, Text: text})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Offer(ctx, offerCallSid, "c1", "anna", "", "400"); err != nil {
		t.Fatal(err)
	}
	if err := c.Offer(ctx, offerCallSid, "c1", "bruno", "+393351112222", "401"); err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 {
		t.Fatalf("%d REST updates", len(docs))
	}
	// The browser's answer runs the leg's document before the bridge, so a stale one is refused.
	if want := `<Client url="` + sidsPublic + `/webhooks/twilio/voice/leg?`; !strings.Contains(docs[0], want) {
		t.Errorf("the browser's <Client> runs no leg document (%s):\n%s", want, docs[0])
	}
	for i, want := range []struct {
		offer string
		urls  int
	}{{"offer=400", 2}, {"offer=401", 2}} { // browser: action and leg; phone: action and whisper
		if n := strings.Count(docs[i], want.offer); n != want.urls {
			t.Errorf("offer %d names %s in %d URLs, want %d:\n%s", i, want.offer, n, want.urls, docs[i])
		}
	}
}

// Twilio's "not in progress" (21220) to an offer is the desk's channels.ErrCallGone: the desk
// then records the call ended instead of offering it round the operators.
func TestOfferOfAnEndedCallIsCallGone(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"code":21220,"message":"Call is not in-progress. Cannot redirect.","status":400}`))
	}))
	defer api.Close()
	text, err := templates.ParseText()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCalls(CallsOptions{AccountSID: sidsAccount, AuthToken: "token0", APIBaseURL: api.URL, PublicURL: sidsPublic,
		RingSeconds: 20, Text: text})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Offer(context.Background(), offerCallSid, "c1", "anna", "", "400")
	if !errors.Is(err, channels.ErrCallGone) || !errors.Is(err, ErrCallGone) {
		t.Fatalf("offer of an ended call: %v; want channels.ErrCallGone", err)
	}
}
