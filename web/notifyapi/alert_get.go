package notifyapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// getAlert shows one of the key's comune's alerts with its delivery counts.
func (a *API) getAlert(c echo.Context) error {
	st, err := a.o.Alerts.GetAlert(c.Request().Context(), apiKey(c).Comune, c.Param("id"))
	if err != nil {
		return apiError(err)
	}
	out := alertJSON(st.Alert, &st.Counts)
	out.CountsByChannel = st.ByChannel
	return c.JSON(http.StatusOK, out)
}
