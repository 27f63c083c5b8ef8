package operatorapi

import (
	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/web/auth"
)

type resolveRequest struct {
	Outcome  string `json:"outcome"`
	Category string `json:"category"`
	Office   string `json:"office"`
	Note     string `json:"note"`
}

// resolve closes a contact with an outcome (and forwards it when the outcome says so).
func (a *Actions) resolve(c echo.Context) error {
	var req resolveRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r := desk.Resolution{Outcome: req.Outcome, Category: req.Category, Office: req.Office, Note: req.Note}
	if err := a.Desk.Resolve(c.Request().Context(), auth.User(c), c.Param("id"), r); err != nil {
		return deskError(err)
	}
	return a.contactJSON(c, c.Param("id"))
}
