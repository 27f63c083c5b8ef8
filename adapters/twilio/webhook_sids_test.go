package twilio

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/templates"
)

// recordingSink keeps the provider ids it was given, de-duplicating them as the store does.
type recordingSink struct {
	mu  sync.Mutex
	ids []string
}

func (s *recordingSink) Receive(_ context.Context, in channels.InboundMessage) (channels.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range s.ids {
		if id == in.ExternalID {
			return channels.Receipt{ContactID: "c", Duplicate: true}, nil
		}
	}
	s.ids = append(s.ids, in.ExternalID)
	return channels.Receipt{ContactID: "c", New: true}, nil
}

func (s *recordingSink) UpdateCall(context.Context, channels.Kind, string, channels.CallEvent) (string, error) {
	return "", channels.ErrUnknownCall
}

const (
	sidsToken   = "secret"
	sidsPublic  = "https://sportello.example"
	sidsAccount = "AC00000000000000000000000000000000"
)

// sidsServer serves the webhooks of account sidsAccount into sink.
func sidsServer(t *testing.T, sink *recordingSink) func(path string, form url.Values, sig string) *httptest.ResponseRecorder {
	t.Helper()
	text, err := templates.ParseText()
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWebhooks(WebhookOptions{AuthToken: sidsToken, AccountSID: sidsAccount, PublicURL: sidsPublic, Sink: sink, Calls: sink, Text: text})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) { _ = httperr.Write(c, err) }
	w.Register(e)
	return func(path string, form url.Values, sig string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
}

// The signature runs the fields' names and values together without separators, so one captured
// webhook can be cut again at a field's edge and still verify: MessageSid absorbing "NumMedia"
// "0" would be a new sid, a second contact from one SMS (or a keyword run again).
func TestARecutReplayOfASignedWebhookIsRefused(t *testing.T) {
	sink := &recordingSink{}
	post := sidsServer(t, sink)
	sid := "SM0123456789abcdef0123456789abcdef"
	genuine := url.Values{"AccountSid": {sidsAccount}, "Body": {"ciao"}, "From": {"+393471234567"},
		"MessageSid": {sid}, "NumMedia": {"0"}, "To": {"+390552768000"}}
	sig := Signature(sidsToken, sidsPublic+"/webhooks/twilio/sms", genuine)
	for range 2 {
		if rec := post("/webhooks/twilio/sms", genuine, sig); rec.Code != http.StatusOK {
			t.Fatalf("genuine webhook: %d %s", rec.Code, rec.Body)
		}
	}
	recut := url.Values{"AccountSid": {sidsAccount}, "Body": {"ciao"}, "From": {"+393471234567"},
		"MessageSid": {sid + "NumMedia0"}, "To": {"+390552768000"}}
	if Signature(sidsToken, sidsPublic+"/webhooks/twilio/sms", recut) != sig {
		t.Fatal("the test's premise: the re-cut request carries the same signature")
	}
	rec := post("/webhooks/twilio/sms", recut, sig)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "malformed_sid") {
		t.Fatalf("re-cut replay: %d %s, want 400 malformed_sid", rec.Code, rec.Body)
	}
	if len(sink.ids) != 1 || sink.ids[0] != sid {
		t.Fatalf("stored ids %q, want only %s", sink.ids, sid)
	}
}

func TestWebhookSidsAreTwilios(t *testing.T) {
	sink := &recordingSink{}
	post := sidsServer(t, sink)
	for _, tc := range []struct {
		name string
		form url.Values
		code int
	}{
		{"a call sid too short", url.Values{"CallSid": {"CA123"}, "From": {"+393471234567"}, "AccountSid": {sidsAccount}}, http.StatusBadRequest},
		{"a recording sid with a letter past f", url.Values{"CallSid": {"CA" + strings.Repeat("a", 32)}, "RecordingSid": {"RE" + strings.Repeat("g", 32)}}, http.StatusBadRequest},
		{"a sid in lower case", url.Values{"CallSid": {"ca" + strings.Repeat("a", 32)}}, http.StatusBadRequest},
		{"another account", url.Values{"CallSid": {"CA" + strings.Repeat("a", 32)}, "From": {"+393471234567"}, "AccountSid": {"AC" + strings.Repeat("1", 32)}}, http.StatusForbidden},
		{"an empty optional sid is no sid", url.Values{"MessageSid": {"SM" + strings.Repeat("b", 32)}, "From": {"+393471234567"}, "MessagingServiceSid": {""}, "AccountSid": {sidsAccount}}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/webhooks/twilio/voice"
			if tc.form.Has("MessageSid") {
				path = "/webhooks/twilio/sms"
			}
			rec := post(path, tc.form, Signature(sidsToken, sidsPublic+path, tc.form))
			if rec.Code != tc.code {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tc.code)
			}
		})
	}
}

// A signature is checked against the configured URL first, then by twilio-go's validator,
// which also accepts the URL as Twilio may have signed it with its port. Any other key, URL or
// field is refused.
func TestWebhookSignatureForms(t *testing.T) {
	post := sidsServer(t, &recordingSink{})
	form := url.Values{"AccountSid": {sidsAccount}, "Body": {"ciao"}, "From": {"+393471234567"},
		"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "To": {"+390552768000"}}
	const path = "/webhooks/twilio/sms"
	tampered := url.Values{}
	for k, v := range form {
		tampered[k] = v
	}
	tampered.Set("Body", "ciao!")
	for _, c := range []struct {
		name string
		sig  string
		form url.Values
		want int
	}{
		{"the configured URL", Signature(sidsToken, sidsPublic+path, form), form, http.StatusOK},
		{"the URL with its port", Signature(sidsToken, "https://sportello.example:443"+path, form), form, http.StatusOK},
		{"another key", Signature("not"+sidsToken, sidsPublic+path, form), form, http.StatusForbidden},
		{"another path", Signature(sidsToken, sidsPublic+"/webhooks/twilio/voice", form), form, http.StatusForbidden},
		{"a changed field", Signature(sidsToken, sidsPublic+path, form), tampered, http.StatusForbidden},
		{"no signature at all", "", form, http.StatusForbidden},
	} {
		if rec := post(path, c.form, c.sig); rec.Code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, rec.Code, rec.Body, c.want)
		}
	}
}
