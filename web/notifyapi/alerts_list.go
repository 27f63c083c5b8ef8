package notifyapi

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/store/alertstore"
)

// listAlerts lists the key's comune's alerts, newest first.
func (a *API) listAlerts(c echo.Context) error {
	q := c.QueryParams()
	f := alertstore.AlertFilter{Comune: apiKey(c).Comune, Status: q.Get("status"), Category: q.Get("category"), Cursor: q.Get("cursor")}
	switch f.Status {
	case "", alertstore.AlertScheduled, alertstore.AlertSending, alertstore.AlertSent, alertstore.AlertCancelled, alertstore.AlertSuperseded, alertstore.AlertExpired:
	default:
		return httperr.BadRequest("invalid_status", "status must be scheduled, sending, sent, cancelled, superseded or expired")
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			return httperr.BadRequest("invalid_limit", "limit must be between 1 and 200")
		}
		f.Limit = n
	}
	list, next, err := a.o.Alerts.ListAlerts(c.Request().Context(), f)
	if err != nil {
		return apiError(err)
	}
	out := AlertList{Items: make([]AlertJSON, len(list)), NextCursor: next}
	for i, al := range list {
		out.Items[i] = alertJSON(al, nil)
	}
	return c.JSON(http.StatusOK, out)
}
