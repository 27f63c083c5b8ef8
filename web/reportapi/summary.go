package reportapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// summary answers GET /api/v1/reports/summary.
func (a *API) summary(c echo.Context) error {
	q, err := a.query(c)
	if err != nil {
		return err
	}
	s, err := a.Reports.Summary(c.Request().Context(), q)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s)
}
