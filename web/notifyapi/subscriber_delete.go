package notifyapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/store/alertstore"
)

// deleteSubscriber removes the key's comune's subscription of a number (204); the consent
// trail stays, and so does a STOP.
func (a *API) deleteSubscriber(c echo.Context) error {
	k := apiKey(c)
	if err := a.o.Alerts.RemoveSubscriber(c.Request().Context(), k.Comune, phoneParam(c),
		alertstore.ConsentActor{Via: alertstore.ViaAPI, Actor: "apikey:" + k.ID}); err != nil {
		return apiError(err)
	}
	return c.NoContent(http.StatusNoContent)
}
