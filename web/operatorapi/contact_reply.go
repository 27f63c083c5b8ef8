package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

type replyRequest struct {
	Body string `json:"body"`
}

// reply answers a contact on its own channel; 202 with the queued message.
func (a *Actions) reply(c echo.Context) error {
	var req replyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	m, err := a.Desk.Reply(c.Request().Context(), auth.User(c), c.Param("id"), req.Body)
	if err != nil {
		return deskError(err)
	}
	return c.JSON(http.StatusAccepted, m)
}
