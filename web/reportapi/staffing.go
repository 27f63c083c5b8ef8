package reportapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// staffing answers GET /api/v1/reports/staffing.
func (a *API) staffing(c echo.Context) error {
	q, err := a.query(c)
	if err != nil {
		return err
	}
	t, err := a.Reports.ParseTarget(c.QueryParam("target_seconds"), c.QueryParam("target_level"))
	if err != nil {
		return apiError(err)
	}
	s, err := a.Reports.Staffing(c.Request().Context(), q, t)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s)
}
