package operatorapi

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/jsonbody"
)

// deskError turns a refused desk action into the API's error shape.
func deskError(err error) error {
	var de *desk.Error
	if errors.As(err, &de) {
		return &httperr.Error{Status: de.Status, Code: de.Code, Message: de.Message}
	}
	return err
}

// decodeJSON reads a JSON object body into v: malformed JSON is a 400, a body over the limit
// a 413; an empty body leaves v as it is.
func decodeJSON(c echo.Context, v any) error {
	return jsonbody.Read(c.Request().Body, v, jsonbody.Options{AllowEmpty: true})
}
