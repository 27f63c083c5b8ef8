// Package jsonbody reads a request's JSON body the way every API of Sportello does: one JSON
// object and nothing after it, each fault a 400 that names it, a body cut by the server's
// limit a 413, all in the APIs' one error shape (httperr).
package jsonbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/sportello/sportello/httperr"
)

// Options say how strict a door is beyond the one-object rule.
type Options struct {
	// Code is the error code of a malformed body (default "invalid_json").
	Code string
	// AllowEmpty leaves v as it is for an empty body, instead of refusing it.
	AllowEmpty bool
	// DisallowUnknownFields refuses a field v has no place for (code "unknown_field").
	DisallowUnknownFields bool
}

// Read reads the whole of r (a request body, bounded by the server) and decodes it into v.
func Read(r io.Reader, v any, o Options) error {
	b, err := ReadAll(r)
	if err != nil {
		return err
	}
	return Decode(b, v, o)
}

// ReadAll reads a whole request body, bounded by the server, for a door that reads more than
// JSON (the notification API takes CAP's XML too): a body cut by the limit is a 413.
func ReadAll(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(r)
	if IsTooLarge(err) {
		return nil, httperr.New(http.StatusRequestEntityTooLarge, "too_large", "request body too large")
	}
	if err != nil {
		return nil, httperr.BadRequest("unreadable_body", "the body could not be read: %v", err)
	}
	return b, nil
}

// IsTooLarge recognizes a body cut by http.MaxBytesReader.
func IsTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// Decode decodes b, which must hold one JSON object, into v.
func Decode(b []byte, v any, o Options) error {
	code := o.Code
	if code == "" {
		code = "invalid_json"
	}
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		if o.AllowEmpty {
			return nil
		}
		return httperr.BadRequest(code, "the body is empty: a JSON object is expected")
	}
	if trimmed[0] != '{' {
		// The decoder would take null for an object with every field empty.
		return httperr.BadRequest(code, "the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if o.DisallowUnknownFields {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return httperr.BadRequest(code, "malformed JSON at byte %d: %v", se.Offset, se)
		case errors.As(err, &te) && te.Type != nil:
			return httperr.BadRequest(code, "field %q must be %s, not %s", te.Field, kind(te.Type.Kind().String()), te.Value)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return httperr.BadRequest(code, "malformed JSON: the body ends too early")
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return httperr.BadRequest("unknown_field", "%s", strings.TrimPrefix(err.Error(), "json: "))
		}
		return httperr.BadRequest(code, "malformed JSON: %v", err)
	}
	if dec.More() {
		return httperr.BadRequest(code, "malformed JSON: more than one value in the body")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return httperr.BadRequest(code, "malformed JSON: data after the object")
	}
	return nil
}

func kind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "bool":
		return "true or false"
	case "struct", "map":
		return "an object"
	}
	return fmt.Sprintf("a %s", k)
}
