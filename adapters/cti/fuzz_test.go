package cti

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/httperr"
)

// A PBX's event body is hostile until read: as JSON or as a form, decoding ends in an event or
// in a 400 or 413 naming what was wrong, never in a panic or another status. A timestamp read
// without error lies within the bounds any PBX can send.
func FuzzDecodeEvent(f *testing.F) {
	for _, seed := range []struct {
		json bool
		body string
	}{
		{true, `{"event":"newCall","from":"+393471234567","to":"055055","callId":"c1","timestamp":"2026-02-03T09:00:00+01:00"}`},
		{true, `{"event":"hangup","callId":"c1","cause":"normal","timestamp":1770109170.5}`},
		{true, `{"event":"answer","callId":"c1","user":"mrossi","timestamp":null}`},
		{true, `{"timestamp":1e400}`},
		{true, `{"timestamp":[1]}`},
		{true, `[`},
		{false, "event=newCall&from=%2B393471234567&callId=c2&timestamp=1770109170"},
		{false, "event=hangup&callId=c2&timestamp=NaN"},
		{false, "%zz=1"},
	} {
		f.Add(seed.json, seed.body)
	}
	now := time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, asJSON bool, body string) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/cti", strings.NewReader(body))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
		if asJSON {
			req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		}
		c := echo.New().NewContext(req, httptest.NewRecorder())
		ev, err := decode(c)
		if err != nil {
			var he *httperr.Error
			if !errors.As(err, &he) || (he.Status != http.StatusBadRequest && he.Status != http.StatusRequestEntityTooLarge) {
				t.Fatalf("decode(%q) failed with %v, not a 400 or 413", body, err)
			}
			return
		}
		if trimmed := strings.TrimSpace(body); asJSON && (!json.Valid([]byte(trimmed)) || !strings.HasPrefix(trimmed, "{")) {
			t.Fatalf("decode accepted %q, which is not one JSON object", body)
		}
		at, err := ev.Timestamp.Time(now)
		if err != nil {
			return
		}
		if at.After(now.Add(maxClockSkew)) || at.Before(earliestEvent) || at.Location() != time.UTC {
			t.Fatalf("timestamp %q read as %v: out of bounds, or not UTC", ev.Timestamp, at)
		}
	})
}

// Found by FuzzDecodeEvent: the decoder alone took "null" for an empty event and ignored what
// followed the first value.
func TestDecodeRefusesWhatIsNotOneObject(t *testing.T) {
	for _, body := range []string{"null", "null0", `{"callId":"c1"}{"callId":"c2"}`, `{"callId":"c1"} x`, `[]`, `"newCall"`, `7`} {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/cti", strings.NewReader(body))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		_, err := decode(echo.New().NewContext(req, httptest.NewRecorder()))
		var he *httperr.Error
		if !errors.As(err, &he) || he.Code != "malformed_json" {
			t.Errorf("%q: %v, want malformed_json", body, err)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/webhooks/cti", strings.NewReader(" {\"callId\":\"c1\"}\n"))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	if ev, err := decode(echo.New().NewContext(req, httptest.NewRecorder())); err != nil || ev.CallID != "c1" {
		t.Errorf("an object between spaces: %+v, %v", ev, err)
	}
}
