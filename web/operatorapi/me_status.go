package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

type statusRequest struct {
	Status string `json:"status"`
}

// setStatus changes the caller's presence.
func (a *Actions) setStatus(c echo.Context) error {
	var req statusRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := a.Desk.SetPresence(c.Request().Context(), auth.User(c), req.Status); err != nil {
		return deskError(err)
	}
	return c.JSON(http.StatusOK, map[string]string{"status": req.Status})
}
