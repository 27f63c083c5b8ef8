package adminpages

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// keysView is the API keys page: the list and the creation form.
type keysView struct {
	L      map[string]string
	Keys   []alertstore.APIKey
	Comuni []config.Comune
	Form   struct{ Comune, Name string }
}

func (h *Handler) keys(c echo.Context) error {
	notice := ""
	if c.QueryParam("revoked") != "" {
		notice = textsFor(pages.Lang(c))["key_revoked"]
	}
	return h.renderKeys(c, http.StatusOK, "", "", notice, "")
}

func (h *Handler) renderKeys(c echo.Context, status int, comune, name, notice, errText string) error {
	actor := auth.User(c)
	ks, err := h.o.Admin.Keys(c.Request().Context(), actor)
	if err != nil {
		return err
	}
	v := keysView{L: textsFor(pages.Lang(c)), Keys: ks, Comuni: h.o.Admin.Comuni(actor)}
	v.Form.Comune, v.Form.Name = comune, name
	return h.o.Pages.Render(c, status, "admin_keys", pages.View{Title: "nav_keys", Nav: "keys", Notice: notice, Error: errText, Data: v})
}

func (h *Handler) createKey(c echo.Context) error {
	comune, name := c.FormValue("comune"), c.FormValue("name")
	_, secret, err := h.o.Admin.CreateKey(c.Request().Context(), auth.User(c), comune, name)
	if err != nil {
		status, msg, err := refusal(c, err)
		if err != nil {
			return err
		}
		return h.renderKeys(c, status, comune, name, "", msg)
	}
	l := textsFor(pages.Lang(c))
	return h.showSecret(c, "keys", "key_created_title", l["key_once"], secret, "back_keys", "/admin/keys")
}

func (h *Handler) revokeKey(c echo.Context) error {
	if _, err := h.o.Admin.RevokeKey(c.Request().Context(), auth.User(c), c.Param("id")); err != nil {
		_, _, err = refusal(c, err)
		return err
	}
	return pages.Redirect(c, "/admin/keys?revoked=1")
}
