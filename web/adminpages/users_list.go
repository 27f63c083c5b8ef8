package adminpages

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/admin"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// userForm is what a supervisor typed, kept when a submission is refused.
type userForm struct {
	Username, Name, Role, Capacity, Phone string
	Comuni, Categories                    map[string]bool
}

// usersView is the people page: the list and the creation form.
type usersView struct {
	L          map[string]string
	Users      []store.UserRecord
	Roles      []string
	Comuni     []config.Comune
	Categories []config.Category
	Form       userForm
}

func (h *Handler) users(c echo.Context) error {
	return h.renderUsers(c, http.StatusOK, userForm{Role: store.RoleOperator, Capacity: "5"}, "")
}

func (h *Handler) renderUsers(c echo.Context, status int, f userForm, errText string) error {
	actor := auth.User(c)
	list, err := h.o.Admin.Users(c.Request().Context(), actor)
	if err != nil {
		return err
	}
	return h.o.Pages.Render(c, status, "admin_users", pages.View{Title: "nav_users", Nav: "users", Error: errText,
		Data: usersView{L: textsFor(pages.Lang(c)), Users: list, Roles: admin.Roles(actor), Comuni: h.o.Admin.Comuni(actor),
			Categories: h.o.Admin.Categories(), Form: f}})
}
