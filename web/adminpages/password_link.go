package adminpages

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// passwordLink makes a one-time link for a person to set their own password, shown once.
func (h *Handler) passwordLink(c echo.Context) error {
	ctx := c.Request().Context()
	actor := auth.User(c)
	name := c.Param("username")
	tok, err := h.o.Admin.PasswordLink(ctx, actor, name)
	if err != nil {
		return h.refuseOnUser(c, actor, name, err)
	}
	l := textsFor(pages.Lang(c))
	return h.showSecret(c, "users", "link_title", sprintf(l["link_once"], name), h.linkURL(tok), "back_users", "/admin/users/"+url.PathEscape(name))
}

// setView is the set-password page of a link.
type setView struct {
	L        map[string]string
	Token    string
	Username string
	Hint     string
}

func (h *Handler) renderSet(c echo.Context, status int, token, username, errText string) error {
	noStore(c)
	l := textsFor(pages.Lang(c))
	return h.o.Pages.Render(c, status, "password_set", pages.View{Title: "nav_account", Nav: "login", Error: errText,
		Data: setView{L: l, Token: token, Username: username, Hint: sprintf(l["new_password_hint"], auth.MinPasswordLength)}})
}

// passwordForm shows the form of a live link; a used, expired or unknown one is not found.
func (h *Handler) passwordForm(c echo.Context) error {
	tok := c.QueryParam("token")
	u, err := h.o.Admin.LinkUser(c.Request().Context(), tok)
	if err != nil {
		_, _, err = refusal(c, err)
		return err
	}
	return h.renderSet(c, http.StatusOK, tok, u.Username, "")
}

// setPassword sets the password of the link's user and sends them to the login.
func (h *Handler) setPassword(c echo.Context) error {
	tok := c.FormValue("token")
	u, err := h.o.Admin.SetPasswordByLink(c.Request().Context(), tok, c.FormValue("new"))
	if err != nil {
		status, msg, err := refusal(c, err)
		if err != nil {
			return err
		}
		return h.renderSet(c, status, tok, u.Username, msg)
	}
	return pages.Redirect(c, "/login?next=%2Finbox")
}
