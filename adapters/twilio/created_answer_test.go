package twilio

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

// messageResource is a created Message resource as Twilio's API documents it.
const messageResource = `{"account_sid":"AC00000000000000000000000000000000","api_version":"2010-04-01",` +
	`"body":"Blocco del traffico domani dalle 8 alle 20 in viale dei Mille","date_created":"Wed, 02 Dec 2026 18:00:00 +0000",` +
	`"date_sent":null,"date_updated":"Wed, 02 Dec 2026 18:00:00 +0000","direction":"outbound-api","error_code":null,` +
	`"error_message":null,"from":"+390550550","messaging_service_sid":null,"num_media":"0","num_segments":"1",` +
	`"price":null,"price_unit":"USD","sid":"SM0123456789abcdef0123456789abcdef","status":"queued",` +
	`"subresource_uris":{"media":"/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages/SM0123456789abcdef0123456789abcdef/Media.json",` +
	`"feedback":"/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages/SM0123456789abcdef0123456789abcdef/Feedback.json"},` +
	`"to":"+393471234567","uri":"/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages/SM0123456789abcdef0123456789abcdef.json"}`

func TestReadCreated(t *testing.T) {
	cases := []struct {
		name, body, sid, status string
		bad                     bool
	}{
		{name: "resource", body: messageResource, sid: "SM0123456789abcdef0123456789abcdef", status: "queued"},
		{name: "escaped", body: `{"status":"acc\u0065pted","sid":"SM\u0031"}`, sid: "SM1", status: "accepted"},
		{name: "nested members are not the resource's", body: `{"x":{"sid":"SMinner","status":"sent"},"sid":"SMouter"}`, sid: "SMouter"},
		{name: "the first of a repeated member", body: `{"sid":"SM1","sid":"SM2"}`, sid: "SM1"},
		{name: "a member that is not a string", body: `{"sid":12,"status":["queued"]}`},
		{name: "a member that is not UTF-8", body: "{\"sid\":\"SM\x91\",\"status\":\"queued\"}", status: "queued"},
		{name: "key case matters", body: `{"SID":"SM1","Status":"queued"}`},
		{name: "no members", body: `{}`},
		{name: "surrounding space", body: " \n{\"sid\":\"SM1\"}\n", sid: "SM1"},
		{name: "array", body: `[{"sid":"SM1"}]`, bad: true},
		{name: "string", body: `"SM1"`, bad: true},
		{name: "html", body: `<html>Created</html>`, bad: true},
		{name: "truncated", body: `{"sid":"SM1","status":"queued"`, bad: true},
		{name: "trailing garbage", body: `{"sid":"SM1"} {"sid":"SM2"}`, bad: true},
		{name: "empty", body: ``, bad: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := readCreated([]byte(c.body))
			if c.bad {
				if !errors.Is(err, errNotAJSONObject) {
					t.Fatalf("readCreated(%q) = %+v, %v; want errNotAJSONObject", c.body, got, err)
				}
				return
			}
			if err != nil || got.Sid != c.sid || got.Status != c.status {
				t.Fatalf("readCreated(%q) = %+v, %v; want sid %q, status %q", c.body, got, err, c.sid, c.status)
			}
		})
	}
}

// A hostile answer nested a megabyte deep is refused without gjson's recursion: its validator
// took 128 MB of stack for one.
func TestReadCreatedRefusesDeepNestingCheaply(t *testing.T) {
	for _, body := range []string{
		strings.Repeat("[", 1<<20),
		`{"sid":"SM1","x":` + strings.Repeat(`{"a":`, 1<<18),
		`{"sid":"SM1","x":` + strings.Repeat(`[`, 20000) + strings.Repeat(`]`, 20000) + `}`,
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got, err := readCreated([]byte(body))
		runtime.ReadMemStats(&after)
		if !errors.Is(err, errNotAJSONObject) {
			t.Errorf("readCreated(%d bytes nested) = %+v, %v; want errNotAJSONObject", len(body), got, err)
		}
		if grown := after.StackSys - before.StackSys; grown > 8<<20 {
			t.Errorf("readCreated(%d bytes nested) grew the stacks by %d MB", len(body), grown>>20)
		}
	}
	// Within encoding/json's depth limit, a deep but well-formed answer is read.
	body := `{"sid":"SM1","x":` + strings.Repeat(`[`, 1000) + strings.Repeat(`]`, 1000) + `}`
	if got, err := readCreated([]byte(body)); err != nil || got.Sid != "SM1" {
		t.Fatalf("readCreated(1,000 levels) = %+v, %v; want sid SM1", got, err)
	}
}

// FuzzReadCreated checks readCreated against a reference built on encoding/json's tokens: the
// first top-level "sid" and "status", when they are strings of valid UTF-8 (encoding/json would
// replace an invalid byte), and an error exactly when the answer is not one JSON object.
func FuzzReadCreated(f *testing.F) {
	for _, seed := range []string{messageResource, `{"sid":"SM1","sid":2}`, `{"a":[{"sid":"x"}],"status":"sent"}`, `[]`, `{"sid":"\ud800"}`, `{`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := readCreated(body)
		want, object := referenceCreated(body)
		if !object {
			if err == nil {
				t.Fatalf("readCreated(%q) = %+v, nil; encoding/json reads no object there", body, got)
			}
			return
		}
		if err != nil || got != want {
			t.Fatalf("readCreated(%q) = %+v, %v; encoding/json reads %+v", body, got, err, want)
		}
	})
}

func referenceCreated(body []byte) (createdMessage, bool) {
	var created createdMessage
	if !json.Valid(body) {
		return created, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return created, false
	}
	var sawSid, sawStatus bool
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return created, false
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return created, false
		}
		var s string
		isString := len(value) > 0 && value[0] == '"' && utf8.Valid(value) && json.Unmarshal(value, &s) == nil
		switch {
		case key == "sid" && !sawSid:
			sawSid = true
			if isString {
				created.Sid = s
			}
		case key == "status" && !sawStatus:
			sawStatus = true
			if isString {
				created.Status = s
			}
		}
	}
	return created, true
}

// BenchmarkReadCreated compares readCreated with the decoding it replaced.
func BenchmarkReadCreated(b *testing.B) {
	body := []byte(messageResource)
	b.Run("gjson", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if c, err := readCreated(body); err != nil || c.Sid == "" {
				b.Fatal(c, err)
			}
		}
	})
	b.Run("encoding-json-decoder", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var c struct {
				Sid    string `json:"sid"`
				Status string `json:"status"`
			}
			if err := json.NewDecoder(io.NopCloser(bytes.NewReader(body))).Decode(&c); err != nil || c.Sid == "" {
				b.Fatal(c, err)
			}
		}
	})
}
