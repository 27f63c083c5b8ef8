package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/web/auth"
)

// hold puts the caller's live call on hold ({"hold": true}) or takes it back ({"hold": false}).
func (v *Voice) hold(c echo.Context) error {
	var body struct {
		Hold *bool `json:"hold"`
	}
	if err := c.Bind(&body); err != nil || body.Hold == nil {
		return httperr.BadRequest("invalid_body", `the body is {"hold": true} or {"hold": false}`)
	}
	if err := v.Desk.Hold(c.Request().Context(), auth.User(c), c.Param("id"), *body.Hold); err != nil {
		return deskError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"contact_id": c.Param("id"), "hold": *body.Hold})
}
