package notifyapi

import (
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/jsonbody"
)

// readBody reads the whole request body (the server bounds its size: 413 beyond).
func readBody(c echo.Context) ([]byte, error) {
	return jsonbody.ReadAll(c.Request().Body)
}

// decodeJSON decodes one JSON object strictly: unknown fields and trailing data are errors,
// each named precisely.
func decodeJSON(b []byte, v any) error {
	return jsonbody.Decode(b, v, jsonbody.Options{DisallowUnknownFields: true})
}

// phoneParam is the {phone} of the path, percent-decoded (+ may come as %2B).
func phoneParam(c echo.Context) string {
	p := c.Param("phone")
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}
