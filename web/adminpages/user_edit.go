package adminpages

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/admin"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// userView is one person's page: the edit form and the account actions.
type userView struct {
	L          map[string]string
	User       store.UserRecord
	Self       bool
	Roles      []string
	Comuni     []config.Comune
	Categories []config.Category
	Form       userForm
	Heading    string
}

func formOf(u store.UserRecord) userForm {
	f := userForm{Username: u.Username, Name: u.Name, Role: u.Role, Capacity: strconv.Itoa(u.Capacity), Phone: u.Phone,
		Comuni: map[string]bool{}, Categories: map[string]bool{}}
	for _, c := range u.Comuni {
		f.Comuni[c] = true
	}
	for _, c := range u.Categories {
		f.Categories[c] = true
	}
	return f
}

func (h *Handler) user(c echo.Context) error {
	u, err := h.o.Admin.User(c.Request().Context(), auth.User(c), c.Param("username"))
	if err != nil {
		_, _, err = refusal(c, err)
		return err
	}
	notice := ""
	l := textsFor(pages.Lang(c))
	switch {
	case c.QueryParam("saved") != "":
		notice = l["saved"]
	case c.QueryParam("created") != "":
		notice = l["created_title"]
	}
	return h.renderUser(c, http.StatusOK, u, formOf(u), notice, "")
}

func (h *Handler) renderUser(c echo.Context, status int, u store.UserRecord, f userForm, notice, errText string) error {
	actor := auth.User(c)
	l := textsFor(pages.Lang(c))
	return h.o.Pages.Render(c, status, "admin_user", pages.View{Title: "nav_users", Nav: "users", Notice: notice, Error: errText,
		Data: userView{L: l, User: u, Self: u.ID == actor.ID, Roles: admin.Roles(actor), Comuni: h.o.Admin.Comuni(actor),
			Categories: h.o.Admin.Categories(), Form: f, Heading: sprintf(l["user_title"], u.Username)}})
}

func (h *Handler) updateUser(c echo.Context) error {
	ctx := c.Request().Context()
	actor := auth.User(c)
	u, err := h.o.Admin.User(ctx, actor, c.Param("username"))
	if err != nil {
		_, _, err = refusal(c, err)
		return err
	}
	f, comuni, cats, err := readUserForm(c)
	if err != nil {
		return err
	}
	f.Username = u.Username
	n, err := capacity(f.Capacity)
	if err == nil {
		p := admin.Patch{Name: &f.Name, Categories: &cats, Capacity: &n, Phone: &f.Phone}
		if u.ID != actor.ID {
			// One's own role and comuni are not on the form.
			p.Role, p.Comuni = &f.Role, &comuni
		}
		_, err = h.o.Admin.UpdateUser(ctx, actor, u.Username, p)
	}
	if err != nil {
		status, msg, err := refusal(c, err)
		if err != nil {
			return err
		}
		return h.renderUser(c, status, u, f, "", msg)
	}
	return pages.Redirect(c, "/admin/users/"+url.PathEscape(u.Username)+"?saved=1")
}

func (h *Handler) setDisabled(c echo.Context, disabled bool) error {
	ctx := c.Request().Context()
	actor := auth.User(c)
	name := c.Param("username")
	_, err := h.o.Admin.UpdateUser(ctx, actor, name, admin.Patch{Disabled: &disabled})
	if err != nil {
		return h.refuseOnUser(c, actor, name, err)
	}
	return pages.Redirect(c, "/admin/users/"+url.PathEscape(name)+"?saved=1")
}

func (h *Handler) disableUser(c echo.Context) error { return h.setDisabled(c, true) }

func (h *Handler) enableUser(c echo.Context) error { return h.setDisabled(c, false) }

func (h *Handler) resetPassword(c echo.Context) error {
	ctx := c.Request().Context()
	actor := auth.User(c)
	name := c.Param("username")
	pw, err := h.o.Admin.ResetPassword(ctx, actor, name)
	if err != nil {
		return h.refuseOnUser(c, actor, name, err)
	}
	l := textsFor(pages.Lang(c))
	return h.showSecret(c, "users", "reset_title", sprintf(l["password_once"], name), pw, "back_users", "/admin/users/"+url.PathEscape(name))
}

// refuseOnUser shows a refused action on the person's page again, with the reason: the page
// is read afresh, since the action changed nothing.
func (h *Handler) refuseOnUser(c echo.Context, actor store.User, name string, err error) error {
	status, msg, err := refusal(c, err)
	if err != nil {
		return err
	}
	u, uerr := h.o.Admin.User(c.Request().Context(), actor, name)
	if uerr != nil {
		return uerr
	}
	return h.renderUser(c, status, u, formOf(u), "", msg)
}
