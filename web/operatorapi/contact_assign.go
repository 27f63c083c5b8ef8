package operatorapi

import (
	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

type assignRequest struct {
	Username string `json:"username"`
}

// assign gives a contact to a user (supervisors; operators only to themselves).
func (a *Actions) assign(c echo.Context) error {
	var req assignRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u := auth.User(c)
	if err := a.Desk.Assign(c.Request().Context(), u, c.Param("id"), req.Username); err != nil {
		return deskError(err)
	}
	return a.contactJSON(c, c.Param("id"))
}
