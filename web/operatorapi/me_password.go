package operatorapi

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/admin"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/web/auth"
)

// PasswordChange is the body of POST /api/v1/me/password.
type PasswordChange struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// changePassword changes the caller's own password; every other session of theirs ends (the
// one it came through, when it came by the session cookie, stays).
func (a *Admin) changePassword(c echo.Context) error {
	var p PasswordChange
	if err := decodeStrict(c, &p); err != nil {
		return err
	}
	if p.Current == "" || p.New == "" {
		return httperr.BadRequest("missing_field", "current and new are required")
	}
	keep := ""
	if auth.ViaCookie(c) {
		if ck, err := c.Cookie(auth.SessionCookie); err == nil {
			keep = ck.Value
		}
	}
	if err := a.Admin.ChangePassword(c.Request().Context(), auth.User(c), c.RealIP(), keep, p.Current, p.New); err != nil {
		setRetryAfter(c, err)
		return adminError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// setRetryAfter tells a client refused for too many (wrong) password checks when to come back.
func setRetryAfter(c echo.Context, err error) {
	var ae *admin.Error
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ae.RetryAfter.Seconds()))))
	}
}
