package notifyapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// cancelAlert stops what an alert has not sent yet; cancelling twice is harmless.
func (a *API) cancelAlert(c echo.Context) error {
	ctx := c.Request().Context()
	k := apiKey(c)
	if _, err := a.o.Alerts.CancelAlert(ctx, k.Comune, c.Param("id")); err != nil {
		return apiError(err)
	}
	st, err := a.o.Alerts.GetAlert(ctx, k.Comune, c.Param("id"))
	if err != nil {
		return apiError(err)
	}
	return c.JSON(http.StatusOK, alertJSON(st.Alert, &st.Counts))
}
