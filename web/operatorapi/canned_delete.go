package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

// deleteCanned removes a canned answer.
func (a *Actions) deleteCanned(c echo.Context) error {
	if err := a.Desk.DeleteCanned(c.Request().Context(), auth.User(c), c.Param("id")); err != nil {
		return deskError(err)
	}
	return c.NoContent(http.StatusNoContent)
}
