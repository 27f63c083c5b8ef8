package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/web/auth"
)

// updateCanned replaces a canned answer's fields.
func (a *Actions) updateCanned(c echo.Context) error {
	var in desk.CannedInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	item, err := a.Desk.UpdateCanned(c.Request().Context(), auth.User(c), c.Param("id"), in)
	if err != nil {
		return deskError(err)
	}
	return c.JSON(http.StatusOK, item)
}
