package notifyapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// getSubscriber shows the key's comune's subscription of a number with its consent trail.
func (a *API) getSubscriber(c echo.Context) error {
	v, err := a.o.Alerts.GetSubscriber(c.Request().Context(), apiKey(c).Comune, phoneParam(c))
	if err != nil {
		return apiError(err)
	}
	return c.JSON(http.StatusOK, subscriberJSON(v))
}
