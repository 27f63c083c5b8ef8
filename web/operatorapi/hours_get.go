package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

// getHours shows a comune's business hours and holidays (supervisors and admins of it).
func (a *Actions) getHours(c echo.Context) error {
	cal, err := a.Desk.Calendar(c.Request().Context(), auth.User(c), c.Param("id"))
	if err != nil {
		return deskError(err)
	}
	return c.JSON(http.StatusOK, cal)
}
