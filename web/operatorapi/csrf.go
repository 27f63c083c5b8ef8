package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/web/auth"
)

// requireCSRF refuses an unsafe request authenticated by the session cookie unless it carries
// that session's CSRF token (auth.CheckCSRF, the pages' rule): a bearer token cannot be sent
// by another site, a cookie can.
func requireCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if auth.ViaCookie(c) && !auth.CheckCSRF(c) {
			return httperr.New(http.StatusForbidden, "csrf", "missing or stale CSRF token: reload the page")
		}
		return next(c)
	}
}
