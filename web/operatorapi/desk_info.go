package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/web/auth"
)

// listOffices lists a comune's offices (for the resolve dialog).
func (a *Actions) listOffices(c echo.Context) error {
	comune := c.QueryParam("comune")
	if comune != "" && !auth.User(c).Scope().Allows(&comune) {
		return httperr.NotFound("comune")
	}
	offices := a.Desk.Offices(comune)
	if offices == nil {
		offices = []config.Office{}
	}
	type office struct {
		ID         string   `json:"id"`
		Name       string   `json:"name"`
		Email      string   `json:"email"`
		Phone      string   `json:"phone"`
		Categories []string `json:"categories"`
	}
	out := make([]office, 0, len(offices))
	for _, o := range offices {
		out = append(out, office{ID: o.ID, Name: o.Name, Email: o.Email, Phone: o.Phone, Categories: o.Categories})
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out, "next_cursor": ""})
}
