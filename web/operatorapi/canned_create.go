package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/web/auth"
)

// createCanned stores a canned answer: a comune's (its supervisors and admins) or a shared
// one (admins of every comune).
func (a *Actions) createCanned(c echo.Context) error {
	var in desk.CannedInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	item, err := a.Desk.CreateCanned(c.Request().Context(), auth.User(c), in)
	if err != nil {
		return deskError(err)
	}
	return c.JSON(http.StatusCreated, item)
}
