package appioemu

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func call(t *testing.T, srv *httptest.Server, key, method, path string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, srv.URL+path, rd)
	if key != "" {
		req.Header.Set("Ocp-Apim-Subscription-Key", key)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}

// The emulator refuses what App IO refuses: no or a wrong key, a malformed fiscal code, a
// subject or markdown out of bounds, a recipient whose profile refuses the service; it
// throttles on demand with Retry-After, and a message is only visible to its own service.
func TestEmulatorChecksLikeAppIO(t *testing.T) {
	e := New(Options{Services: map[string]string{"kf": "firenze", "kp": "prato"}, RetryAfter: 3})
	e.AddProfile("RSSMRA85T10A562S", "prato")
	srv := httptest.NewServer(e)
	defer srv.Close()
	ok := map[string]any{"fiscal_code": "RSSMRA85T10A562S", "content": map[string]string{"subject": "Oggetto valido", "markdown": strings.Repeat("m", 80)}}
	if code, _, _ := call(t, srv, "", "POST", "/api/v1/profiles", map[string]string{"fiscal_code": "RSSMRA85T10A562S"}); code != 401 {
		t.Errorf("no key: %d", code)
	}
	if code, _, _ := call(t, srv, "bad", "POST", "/api/v1/messages", ok); code != 401 {
		t.Errorf("a wrong key: %d", code)
	}
	if code, out, _ := call(t, srv, "kf", "POST", "/api/v1/profiles", map[string]string{"fiscal_code": "RSSMRA85T10A562S"}); code != 200 || out["sender_allowed"] != true {
		t.Errorf("profile: %d %v", code, out)
	}
	if code, out, _ := call(t, srv, "kp", "POST", "/api/v1/profiles", map[string]string{"fiscal_code": "RSSMRA85T10A562S"}); code != 200 || out["sender_allowed"] != false {
		t.Errorf("a refused service: %d %v", code, out)
	}
	if code, _, _ := call(t, srv, "kf", "POST", "/api/v1/profiles", map[string]string{"fiscal_code": "BNCLRA80A41F205G"}); code != 404 {
		t.Errorf("no profile: %d", code)
	}
	if code, _, _ := call(t, srv, "kf", "POST", "/api/v1/profiles", map[string]string{"fiscal_code": "nope"}); code != 400 {
		t.Errorf("a malformed fiscal code: %d", code)
	}
	for name, content := range map[string]map[string]string{
		"short subject":  {"subject": "Breve", "markdown": strings.Repeat("m", 80)},
		"long subject":   {"subject": strings.Repeat("s", 121), "markdown": strings.Repeat("m", 80)},
		"short markdown": {"subject": "Oggetto valido", "markdown": strings.Repeat("m", 79)},
		"long markdown":  {"subject": "Oggetto valido", "markdown": strings.Repeat("m", 10001)},
	} {
		if code, _, _ := call(t, srv, "kf", "POST", "/api/v1/messages", map[string]any{"fiscal_code": "RSSMRA85T10A562S", "content": content}); code != 400 {
			t.Errorf("%s: %d", name, code)
		}
	}
	if code, _, _ := call(t, srv, "kp", "POST", "/api/v1/messages", ok); code != 403 {
		t.Errorf("to a profile that refuses the service: %d", code)
	}
	code, out, _ := call(t, srv, "kf", "POST", "/api/v1/messages", ok)
	id, _ := out["id"].(string)
	if code != 201 || id == "" {
		t.Fatalf("send: %d %v", code, out)
	}
	if code, out, _ := call(t, srv, "kf", "GET", "/api/v1/messages/RSSMRA85T10A562S/"+id, nil); code != 200 || out["status"] != "PROCESSED" {
		t.Errorf("status: %d %v", code, out)
	}
	if code, _, _ := call(t, srv, "kp", "GET", "/api/v1/messages/RSSMRA85T10A562S/"+id, nil); code != 404 {
		t.Errorf("another service's message: %d", code)
	}
	e.Throttle(1)
	if code, _, h := call(t, srv, "kf", "POST", "/api/v1/messages", ok); code != 429 || h.Get("Retry-After") != "3" {
		t.Errorf("throttled: %d %q", code, h.Get("Retry-After"))
	}
	if code, _, _ := call(t, srv, "kf", "POST", "/api/v1/messages", ok); code != 201 {
		t.Errorf("after the throttle: %d", code)
	}
	if n := len(e.Messages()); n != 2 || e.Throttled() != 1 {
		t.Errorf("%d messages, %d throttled", n, e.Throttled())
	}
}
