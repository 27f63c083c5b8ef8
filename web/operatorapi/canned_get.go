package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

// getCanned shows one canned answer (404 outside the caller's comuni).
func (a *Actions) getCanned(c echo.Context) error {
	item, err := a.Desk.GetCanned(c.Request().Context(), auth.User(c), c.Param("id"))
	if err != nil {
		return deskError(err)
	}
	return c.JSON(http.StatusOK, item)
}
