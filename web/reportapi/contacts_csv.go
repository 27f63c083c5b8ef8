package reportapi

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// contactsCSV streams GET /api/v1/reports/contacts.csv: a year is written as it is read.
func (a *API) contactsCSV(c echo.Context) error {
	q, err := a.query(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="contatti_%s_%s.csv"`, q.From, q.To))
	c.Response().WriteHeader(http.StatusOK)
	// Once rows are on the wire the status is sent: a failure can only cut the file short, so
	// it is logged here (the error handler leaves committed responses alone).
	if err := a.Reports.WriteCSV(c.Request().Context(), q, c.Response()); err != nil {
		if c.Request().Context().Err() == nil {
			a.logger().Error("writing the contacts CSV failed", "err", err, "from", q.From.String(), "to", q.To.String())
		}
		return err
	}
	return nil
}
