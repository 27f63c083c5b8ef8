package operatorapi

import (
	"crypto/subtle"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/web/auth"
)

// CSRFCookie is the web inbox's CSRF cookie; CSRFHeader must repeat its value (double submit).
const (
	CSRFCookie = "sportello_csrf"
	CSRFHeader = "X-CSRF-Token"
)

// requireCSRF refuses an unsafe request authenticated by the session cookie unless it carries
// the CSRF token: a bearer token cannot be sent by another site, a cookie can.
func requireCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if !auth.ViaCookie(c) {
			return next(c)
		}
		ck, err := c.Cookie(CSRFCookie)
		sent := c.Request().Header.Get(CSRFHeader)
		if err != nil || ck.Value == "" || sent == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(sent)) != 1 {
			return httperr.New(http.StatusForbidden, "csrf", "missing or stale CSRF token: reload the page")
		}
		return next(c)
	}
}
