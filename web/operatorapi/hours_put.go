package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/router"
	"github.com/sportello/sportello/web/auth"
)

// putHours replaces a comune's business hours and holidays (admins of it).
func (a *Actions) putHours(c echo.Context) error {
	var in router.Calendar
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	cal, err := a.Desk.SetCalendar(c.Request().Context(), auth.User(c), c.Param("id"), in)
	if err != nil {
		return deskError(err)
	}
	return c.JSON(http.StatusOK, cal)
}
