package cti_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/adapters/cti"
	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/ingest"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

const ctiToken = "pbx-secret"

// fakeOperators are the users a PBX may name: anyone not listed is unknown.
type fakeOperators map[string]cti.OperatorStatus

func (f fakeOperators) OperatorStatus(_ context.Context, username string) (cti.OperatorStatus, error) {
	return f[username], nil
}

// serve mounts the handler with o on an echo that reads the client address as the gateway
// does (web.New): X-Forwarded-For only with trustProxy.
func serve(t *testing.T, o cti.Options, trustProxy bool) *echo.Echo {
	t.Helper()
	h, err := cti.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.IPExtractor = echo.ExtractIPDirect()
	if trustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	e.HTTPErrorHandler = func(err error, c echo.Context) { _ = httperr.Write(c, err) }
	h.Register(e)
	return e
}

// postAs posts one JSON event with token, from the address remote (host:port).
func postAs(e *echo.Echo, token, remote, event string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/cti", strings.NewReader(event))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	if token != "" {
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// ctiServer serves /webhooks/cti into sink and calls, with the gateway's clock at now and
// anna the one enabled operator; it returns a function that posts one JSON event.
func ctiServer(t *testing.T, sink channels.Sink, calls channels.CallSink, now time.Time) func(event string) *httptest.ResponseRecorder {
	t.Helper()
	e := serve(t, cti.Options{Sources: []cti.Source{{Token: ctiToken}}, Operators: fakeOperators{"anna": cti.OperatorEnabled},
		Sink: sink, Calls: calls, Now: func() time.Time { return now }}, false)
	return func(event string) *httptest.ResponseRecorder {
		return postAs(e, ctiToken, "192.0.2.1:1234", event)
	}
}

// countingSink counts what reaches it; every call is unknown to it.
type countingSink struct{ received, updates atomic.Int32 }

func (s *countingSink) Receive(context.Context, channels.InboundMessage) (channels.Receipt, error) {
	s.received.Add(1)
	return channels.Receipt{ContactID: "c1", New: true}, nil
}

func (s *countingSink) UpdateCall(context.Context, channels.Kind, string, channels.CallEvent) (string, error) {
	s.updates.Add(1)
	return "", channels.ErrUnknownCall
}

// An event stamped at the epoch (a PBX whose clock reset) is refused with a 400 that says
// why, and nothing is recorded.
func TestEventStampedByAResetClockIsRefused(t *testing.T) {
	now := time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)
	sink := &countingSink{}
	post := ctiServer(t, sink, sink, now)
	for _, event := range []string{
		`{"event": "answer", "callId": "c1", "user": "anna", "timestamp": 1}`,
		`{"event": "hangup", "callId": "c1", "timestamp": "1970-01-01T00:01:00Z"}`,
		`{"event": "newCall", "callId": "c1", "from": "+393471234567", "timestamp": 86400}`,
	} {
		rec := post(event)
		var body httperr.Body
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == nil {
			t.Fatalf("%s: %d %s", event, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusBadRequest || body.Error.Code != "invalid_field" ||
			!strings.Contains(body.Error.Message, "a PBX clock reset") {
			t.Errorf("%s: %d %+v, want 400 invalid_field about a timestamp too old", event, rec.Code, body.Error)
		}
	}
	if n, m := sink.received.Load(), sink.updates.Load(); n != 0 || m != 0 {
		t.Errorf("refused events reached the sink: %d new calls, %d updates", n, m)
	}
}

// A PBX delivers a call's hang-up (T+60) before its answer (T+10), then retries the answer:
// the call is recorded as answered after a 10 s wait, talked for 50 s, and ended.
func TestHangupDeliveredBeforeAnswerRecordsAnsweredCall(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	svc, err := ingest.New(ingest.Options{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	post := ctiServer(t, svc, svc, time.Date(2026, 2, 3, 9, 2, 0, 0, time.UTC))
	events := []string{
		`{"event": "newCall", "callId": "pbx-77", "from": "+393471234567", "to": "+39055055", "timestamp": "2026-02-03T09:00:00Z"}`,
		`{"event": "hangup", "callId": "pbx-77", "user": "anna", "timestamp": "2026-02-03T09:01:00Z"}`,
		`{"event": "answer", "callId": "pbx-77", "user": "anna", "timestamp": "2026-02-03T09:00:10Z"}`,
		`{"event": "answer", "callId": "pbx-77", "user": "anna", "timestamp": "2026-02-03T09:00:10Z"}`,
	}
	var contactID string
	for _, event := range events {
		rec := post(event)
		var answer struct {
			ContactID string `json:"contact_id"`
		}
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &answer) != nil {
			t.Fatalf("%s: %d %s", event, rec.Code, rec.Body)
		}
		contactID = answer.ContactID
	}
	c, err := s.GetContact(context.Background(), contactID, store.Scope{})
	if err != nil || c.Call == nil {
		t.Fatalf("contact %+v %v", c, err)
	}
	call := c.Call
	if call.Status != "completed" || call.Result == nil || *call.Result != channels.CallAnswered ||
		call.WaitSeconds == nil || *call.WaitSeconds != 10 || call.TalkSeconds == nil || *call.TalkSeconds != 50 {
		t.Errorf("call %+v (result %v, wait %v, talk %v), want completed, answered, wait 10, talk 50",
			call, deref(call.Result), deref(call.WaitSeconds), deref(call.TalkSeconds))
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
