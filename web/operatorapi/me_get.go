package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

// Me is the caller as the API shows them.
type Me struct {
	ID         string   `json:"id"`
	Username   string   `json:"username"`
	Name       string   `json:"name"`
	Role       string   `json:"role"`
	Comuni     []string `json:"comuni"`
	Categories []string `json:"categories"`
	Capacity   int      `json:"capacity"`
	Presence   string   `json:"presence"`
}

func (a *Actions) me(c echo.Context) error {
	u := auth.User(c)
	m := Me{ID: u.ID, Username: u.Username, Name: u.Name, Role: u.Role, Comuni: u.Comuni, Categories: u.Categories,
		Capacity: u.Capacity, Presence: u.Presence}
	if m.Comuni == nil {
		m.Comuni = []string{}
	}
	if m.Categories == nil {
		m.Categories = []string{}
	}
	return c.JSON(http.StatusOK, m)
}
