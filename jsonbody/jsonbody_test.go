package jsonbody_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/jsonbody"
)

type note struct {
	Text string `json:"text"`
	N    int    `json:"n"`
}

func TestDecode(t *testing.T) {
	strict := jsonbody.Options{DisallowUnknownFields: true}
	lenient := jsonbody.Options{AllowEmpty: true, Code: "malformed_json"}
	for _, c := range []struct {
		body string
		o    jsonbody.Options
		code string // "" for accepted
		want note
	}{
		{` {"text":"a","n":2} `, strict, "", note{"a", 2}},
		{`{"text":"a","extra":1}`, lenient, "", note{Text: "a"}},
		{`{"text":"a","extra":1}`, strict, "unknown_field", note{}},
		{``, lenient, "", note{}},
		{"  \n", strict, "invalid_json", note{}},
		{`null`, lenient, "malformed_json", note{}},
		{`[{"text":"a"}]`, strict, "invalid_json", note{}},
		{`{"text":"a"}{"text":"b"}`, strict, "invalid_json", note{}},
		{`{"text":"a"} x`, lenient, "malformed_json", note{}},
		{`{"text":1}`, strict, "invalid_json", note{}},
		{`{"text":"a"`, strict, "invalid_json", note{}},
	} {
		var got note
		err := jsonbody.Decode([]byte(c.body), &got, c.o)
		var he *httperr.Error
		switch {
		case c.code == "" && (err != nil || got != c.want):
			t.Errorf("%q: %+v, %v; want %+v", c.body, got, err, c.want)
		case c.code != "" && (!errors.As(err, &he) || he.Code != c.code || he.Status != http.StatusBadRequest):
			t.Errorf("%q: %v, want a 400 %s", c.body, err, c.code)
		}
	}
}

// A body cut by the server's limit is a 413, whatever the JSON in it.
func TestReadCutBodyIsTooLarge(t *testing.T) {
	rec := httptest.NewRecorder()
	body := http.MaxBytesReader(rec, readCloser{strings.NewReader(`{"text":"` + strings.Repeat("a", 100) + `"}`)}, 10)
	var n note
	var he *httperr.Error
	if err := jsonbody.Read(body, &n, jsonbody.Options{}); !errors.As(err, &he) || he.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("%v, want a 413", err)
	}
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }
