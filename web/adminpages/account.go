package adminpages

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/admin"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// accountView is the own account page.
type accountView struct {
	L        map[string]string
	Me       store.UserRecord
	Tokens   []store.TokenInfo
	Now      time.Time
	PwHint   string
	Language string
	Presence string
}

func (h *Handler) account(c echo.Context) error {
	l := textsFor(pages.Lang(c))
	notice := ""
	for _, k := range []string{"password_changed", "prefs_saved", "token_revoked"} {
		if c.QueryParam("done") == k {
			notice = l[k]
		}
	}
	return h.renderAccount(c, http.StatusOK, notice, "")
}

func (h *Handler) renderAccount(c echo.Context, status int, notice, errText string) error {
	ctx := c.Request().Context()
	actor := auth.User(c)
	me, err := h.o.Admin.Account(ctx, actor)
	if err != nil {
		return err
	}
	toks, err := h.o.Admin.Tokens(ctx, actor)
	if err != nil {
		return err
	}
	l := textsFor(pages.Lang(c))
	return h.o.Pages.Render(c, status, "account", pages.View{Title: "nav_account", Nav: "account", Notice: notice, Error: errText,
		Data: accountView{L: l, Me: me, Tokens: toks, Now: time.Now(), PwHint: sprintf(l["new_password_hint"], auth.MinPasswordLength)}})
}

// refused shows the account page again with the refusal, or returns another error.
func (h *Handler) refused(c echo.Context, err error) error {
	status, msg, err := refusal(c, err)
	if err != nil {
		return err
	}
	return h.renderAccount(c, status, "", msg)
}

func (h *Handler) changePassword(c echo.Context) error {
	keep := ""
	if ck, err := c.Cookie(auth.SessionCookie); err == nil {
		keep = ck.Value
	}
	err := h.o.Admin.ChangePassword(c.Request().Context(), auth.User(c), c.RealIP(), keep, c.FormValue("current"), c.FormValue("new"))
	if err != nil {
		return h.refused(c, err)
	}
	return pages.Redirect(c, "/account?done=password_changed")
}

func (h *Handler) savePreferences(c echo.Context) error {
	p := admin.Preferences{Lang: c.FormValue("lang"), DefaultPresence: c.FormValue("default_presence")}
	if err := h.o.Admin.SetPreferences(c.Request().Context(), auth.User(c), p); err != nil {
		return h.refused(c, err)
	}
	if p.Lang != "" {
		pages.SetLang(c, p.Lang)
	}
	return pages.Redirect(c, "/account?done=prefs_saved")
}

func (h *Handler) createToken(c echo.Context) error {
	tok, err := h.o.Admin.CreateToken(c.Request().Context(), auth.User(c), c.FormValue("name"))
	if err != nil {
		return h.refused(c, err)
	}
	return h.showSecret(c, "account", "token_created", textsFor(pages.Lang(c))["token_once"], tok, "back_account", "/account")
}

func (h *Handler) revokeToken(c echo.Context) error {
	if err := h.o.Admin.RevokeToken(c.Request().Context(), auth.User(c), c.Param("id")); err != nil {
		return h.refused(c, err)
	}
	return pages.Redirect(c, "/account?done=token_revoked")
}
