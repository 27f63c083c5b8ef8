package pages

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// The CSRF rule is auth's (shared with the JSON API): see auth.CheckCSRF.
const csrfKey = "sportello.csrf"

// CSRF hands every visitor a token and refuses unsafe requests whose token is not their
// session's (or, before login, their sportello_csrf cookie's): 403 page, nothing done.
func (p *Pages) CSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if !auth.CheckCSRF(c) {
				return &Problem{Status: http.StatusForbidden, Key: "err_csrf"}
			}
		}
		token := auth.CSRFToken(c.Request())
		if token == "" {
			token = store.RandomToken("")
			c.SetCookie(&http.Cookie{Name: auth.CSRFCookie, Value: token, Path: "/", HttpOnly: true,
				Secure: p.o.SecureCookies, SameSite: http.SameSiteStrictMode})
		}
		c.Set(csrfKey, token)
		return next(c)
	}
}

// CSRFToken is the token to put in the request's forms.
func CSRFToken(c echo.Context) string {
	v, _ := c.Get(csrfKey).(string)
	return v
}
