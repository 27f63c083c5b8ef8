package operatorapi

import (
	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/web/auth"
)

type routeRequest struct {
	Comune   string `json:"comune"`
	Category string `json:"category"`
}

// route decides a contact's comune ("to be decided") and/or corrects its category.
func (a *Actions) route(c echo.Context) error {
	var req routeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := a.Desk.Reroute(c.Request().Context(), auth.User(c), c.Param("id"), desk.Route{Comune: req.Comune, Category: req.Category}); err != nil {
		return deskError(err)
	}
	return a.contactJSON(c, c.Param("id"))
}
