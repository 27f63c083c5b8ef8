package pages

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// RequireSession puts the signed-in user on the request. Anyone else (no cookie, an expired or
// revoked session, a deleted user) goes to /login and comes back afterwards.
func (p *Pages) RequireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, err := p.sessionUser(c)
		if errors.Is(err, store.ErrNotFound) {
			p.clearSession(c)
			r := c.Request()
			if strings.Contains(r.Header.Get(echo.HeaderAccept), "text/event-stream") || r.Header.Get("X-Requested-With") != "" {
				return c.NoContent(http.StatusUnauthorized)
			}
			to := "/login"
			if r.Method == http.MethodGet {
				to += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			return c.Redirect(http.StatusSeeOther, to)
		}
		if err != nil {
			return err
		}
		auth.SetUser(c, u, true)
		return next(c)
	}
}

func (p *Pages) sessionUser(c echo.Context) (store.User, error) {
	ck, err := c.Cookie(auth.SessionCookie)
	if err != nil || ck.Value == "" {
		return store.User{}, store.ErrNotFound
	}
	return p.o.Store.UserByToken(c.Request().Context(), ck.Value, store.TokenSession)
}

// RequireRole shows a 403 page to users below role.
func RequireRole(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !auth.User(c).AtLeast(role) {
				return &Problem{Status: http.StatusForbidden, Key: "err_role"}
			}
			return next(c)
		}
	}
}

func (p *Pages) setSession(c echo.Context, token string) {
	c.SetCookie(&http.Cookie{Name: auth.SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: p.o.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: int(p.o.SessionTTL / time.Second)})
}

func (p *Pages) clearSession(c echo.Context) {
	if _, err := c.Cookie(auth.SessionCookie); err != nil {
		return
	}
	c.SetCookie(&http.Cookie{Name: auth.SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: p.o.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}
