package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/web/auth"
)

type replyRequest struct {
	Body string `json:"body"`
	// Channel is "" (the contact's own) or "app_io" (the citizen's App IO inbox).
	Channel string `json:"channel"`
}

// reply answers a contact on its own channel, or by App IO when asked; 202 with the queued
// message.
func (a *Actions) reply(c echo.Context) error {
	var req replyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	m, err := a.Desk.ReplyVia(c.Request().Context(), auth.User(c), c.Param("id"), req.Body, channels.Kind(req.Channel))
	if err != nil {
		return deskError(err)
	}
	return c.JSON(http.StatusAccepted, m)
}
