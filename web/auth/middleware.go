package auth

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/store"
)

// SessionCookie is the web inbox's session cookie.
const SessionCookie = "sportello_session"

const (
	userKey      = "sportello.user"
	viaCookieKey = "sportello.via_cookie"
)

// Authenticator finds the user behind a request.
type Authenticator struct {
	Store *store.Store
}

// Lookup returns the user of a bearer token or session cookie, and whether it came by cookie.
func (a *Authenticator) Lookup(c echo.Context) (store.User, bool, error) {
	if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || token == "" {
			return store.User{}, false, httperr.Unauthorized()
		}
		u, err := a.Store.UserByToken(c.Request().Context(), token, store.TokenAPI)
		return u, false, err
	}
	if ck, err := c.Cookie(SessionCookie); err == nil && ck.Value != "" {
		u, err := a.Store.UserByToken(c.Request().Context(), ck.Value, store.TokenSession)
		return u, true, err
	}
	return store.User{}, false, store.ErrNotFound
}

// RequireUser rejects requests without a valid token or session (401 JSON).
func (a *Authenticator) RequireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, viaCookie, err := a.Lookup(c)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return httperr.Unauthorized()
			}
			var he *httperr.Error
			if errors.As(err, &he) {
				return he
			}
			return err
		}
		c.Set(userKey, u)
		c.Set(viaCookieKey, viaCookie)
		return next(c)
	}
}

// RequireRole lets through users with at least the given role (403 otherwise).
func RequireRole(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !User(c).AtLeast(role) {
				return httperr.New(http.StatusForbidden, "forbidden", "this needs the %s role", role)
			}
			return next(c)
		}
	}
}

// User is the authenticated user of the request.
func User(c echo.Context) store.User {
	u, _ := c.Get(userKey).(store.User)
	return u
}

// SetUser puts a user on the request (the inbox's session middleware).
func SetUser(c echo.Context, u store.User, viaCookie bool) {
	c.Set(userKey, u)
	c.Set(viaCookieKey, viaCookie)
}

// ViaCookie reports whether the request authenticated with the session cookie, which makes
// unsafe methods need a CSRF token.
func ViaCookie(c echo.Context) bool {
	v, _ := c.Get(viaCookieKey).(bool)
	return v
}

// DefaultRecheck is how often a long-lived stream re-checks the credentials it was opened with,
// so a revoked or expired token, an ended session or a disabled user loses it within seconds
// even when the revocation's event was lost (or came from a command on another process with
// SQLite, which has no NOTIFY).
const DefaultRecheck = 5 * time.Second

// StillValid reports whether the request's token or session still belongs to userID: not
// revoked, expired or ended, and the user neither deleted nor disabled. A database error
// counts as no: the stream closes and the client reconnects through the normal checks.
func (a *Authenticator) StillValid(c echo.Context, userID string) bool {
	u, _, err := a.Lookup(c)
	return err == nil && u.ID == userID
}
