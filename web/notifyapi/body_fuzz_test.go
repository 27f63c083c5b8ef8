package notifyapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/sportello/sportello/httperr"
)

// A comune's key may be stolen, and its bodies are hostile until read: decoding ends in one
// alert read from exactly one JSON object, or in a 400 with a code the API documents, never
// in a panic.
func FuzzDecodeAlertBody(f *testing.F) {
	for _, seed := range []string{
		`{"message":"Via Roma chiusa","topics":["traffico"],"send_at":"2026-11-27T09:15:00+01:00"}`,
		`{"message":"x","channels":["app_io","sms"],"urgent":true,"gsm7_safe":true}`,
		`{"message":1}`, `{"topics":"traffico"}`, `{"nope":1}`, `{"message":"a"} {"message":"b"}`,
		`null`, `[]`, ``, `{`, `{"message":"\ud800"}`,
	} {
		f.Add(seed)
	}
	codes := map[string]bool{"invalid_json": true, "unknown_field": true}
	f.Fuzz(func(t *testing.T, body string) {
		var b alertBody
		err := decodeJSON([]byte(body), &b)
		if err != nil {
			var he *httperr.Error
			if !errors.As(err, &he) || he.Status != http.StatusBadRequest || !codes[he.Code] {
				t.Fatalf("decodeJSON(%q) failed with %v, not a 400 with a documented code", body, err)
			}
			return
		}
		if trimmed := strings.TrimSpace(body); !json.Valid([]byte(trimmed)) || !strings.HasPrefix(trimmed, "{") {
			t.Fatalf("decodeJSON accepted %q, which is not one JSON object", body)
		}
	})
}
