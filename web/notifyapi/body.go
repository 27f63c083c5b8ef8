package notifyapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/web"
)

// readBody reads the whole request body (the server bounds its size: 413 beyond).
func readBody(c echo.Context) ([]byte, error) {
	b, err := io.ReadAll(c.Request().Body)
	if web.IsTooLarge(err) {
		return nil, httperr.New(http.StatusRequestEntityTooLarge, "too_large", "request body too large")
	}
	if err != nil {
		return nil, httperr.BadRequest("unreadable_body", "the body could not be read: %v", err)
	}
	return b, nil
}

// decodeJSON decodes one JSON object strictly: unknown fields and trailing data are errors,
// each named precisely.
func decodeJSON(b []byte, v any) error {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return httperr.BadRequest("invalid_json", "the body is empty: a JSON object is expected")
	}
	if trimmed[0] != '{' {
		// The decoder would take null for an object with every field empty.
		return httperr.BadRequest("invalid_json", "the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return httperr.BadRequest("invalid_json", "malformed JSON at byte %d: %v", se.Offset, se)
		case errors.As(err, &te):
			return httperr.BadRequest("invalid_json", "field %q must be %s, not %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return httperr.BadRequest("invalid_json", "malformed JSON: the body ends too early")
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return httperr.BadRequest("unknown_field", "%s", strings.TrimPrefix(err.Error(), "json: "))
		}
		return httperr.BadRequest("invalid_json", "malformed JSON: %v", err)
	}
	if dec.More() {
		return httperr.BadRequest("invalid_json", "malformed JSON: more than one value in the body")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return httperr.BadRequest("invalid_json", "malformed JSON: data after the object")
	}
	return nil
}

func jsonKind(k string) string {
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

// phoneParam is the {phone} of the path, percent-decoded (+ may come as %2B).
func phoneParam(c echo.Context) string {
	p := c.Param("phone")
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}
