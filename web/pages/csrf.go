package pages

import (
	"crypto/subtle"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/store"
)

// CSRF tokens are double-submitted: a random value in the sportello_csrf cookie (SameSite=Strict,
// HttpOnly) must come back in the form field `csrf` or the header X-CSRF-Token. A foreign site
// can make the browser send the cookie but cannot read it to put it in the form.
const (
	CSRFCookie = "sportello_csrf"
	CSRFField  = "csrf"
	CSRFHeader = "X-CSRF-Token"
	csrfKey    = "sportello.csrf"
)

// CSRF hands every visitor a token and refuses unsafe requests whose token does not match (403
// page, nothing done).
func (p *Pages) CSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := ""
		if ck, err := c.Cookie(CSRFCookie); err == nil && len(ck.Value) >= 32 {
			token = ck.Value
		}
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if !CheckCSRF(c) {
				return &Problem{Status: http.StatusForbidden, Key: "err_csrf"}
			}
		}
		if token == "" {
			token = store.RandomToken("")
			c.SetCookie(&http.Cookie{Name: CSRFCookie, Value: token, Path: "/", HttpOnly: true,
				Secure: p.o.SecureCookies, SameSite: http.SameSiteStrictMode})
		}
		c.Set(csrfKey, token)
		return next(c)
	}
}

// CheckCSRF reports whether an unsafe request carries the token of its cookie, so the JSON API
// can apply the same rule to cookie-authenticated writes.
func CheckCSRF(c echo.Context) bool {
	ck, err := c.Cookie(CSRFCookie)
	if err != nil || len(ck.Value) < 32 {
		return false
	}
	sent := c.Request().Header.Get(CSRFHeader)
	if sent == "" {
		sent = c.FormValue(CSRFField)
	}
	return sent != "" && subtle.ConstantTimeCompare([]byte(sent), []byte(ck.Value)) == 1
}

// CSRFToken is the token to put in the request's forms.
func CSRFToken(c echo.Context) string {
	v, _ := c.Get(csrfKey).(string)
	return v
}
