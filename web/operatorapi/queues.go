package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

// queues lists the queues with waiting contacts, oldest wait and available operators.
func (a *Actions) queues(c echo.Context) error {
	qs, err := a.Desk.Queues(c.Request().Context(), auth.User(c))
	if err != nil {
		return deskError(err)
	}
	return c.JSON(http.StatusOK, qs)
}
