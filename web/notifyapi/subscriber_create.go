package notifyapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/alerts"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/store/alertstore"
)

type subscriberBody struct {
	Phone      string   `json:"phone"`
	FiscalCode string   `json:"fiscal_code"`
	Topics     []string `json:"topics"`
	Lang       string   `json:"lang"`
}

// createSubscriber subscribes a mobile number (and, or only, a fiscal code for App IO) for the
// key's comune: pending until the citizen answers SI to the confirmation SMS (202); by fiscal
// code alone confirmed at once (200: App IO asks the citizen's consent itself). An already confirmed number only gets its topics
// changed (200). A number that said STOP is answered as pending too (no other comune learns of
// the STOP) and gets nothing. Each confirmation SMS counts against the key's rate limit.
func (a *API) createSubscriber(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var b subscriberBody
	if err := decodeJSON(body, &b); err != nil {
		return err
	}
	if b.Phone == "" && b.FiscalCode == "" {
		return httperr.BadRequest("missing_phone", "phone or fiscal_code is required")
	}
	k := apiKey(c)
	v, err := a.o.Alerts.Subscribe(c.Request().Context(), k.Comune, alerts.SubscriptionRequest{Phone: b.Phone, FiscalCode: b.FiscalCode, Topics: b.Topics, Lang: b.Lang},
		alertstore.ConsentActor{Via: alertstore.ViaAPI, Actor: "apikey:" + k.ID}, alerts.RateCharge{Bucket: a.bucket(c), Rate: a.rate()})
	var re *alerts.RequestError
	if errors.As(err, &re) && re.Kind == alerts.TooMany {
		return a.tooMany(c, re.RetryAfter)
	}
	if err != nil {
		return apiError(err)
	}
	status := http.StatusAccepted
	if v.Status == alertstore.SubscriberConfirmed {
		status = http.StatusOK
	}
	return c.JSON(status, subscriberJSON(v))
}
