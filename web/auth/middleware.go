package auth

import (
	"errors"
	"net/http"
	"strings"

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

// Lookup returns the user of a bearer token or session cookie, and whether it came by cookie
// (meaningful only without an error).
func (a *Authenticator) Lookup(c echo.Context) (store.User, bool, error) {
	if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || token == "" {
			return store.User{}, false, httperr.Unauthorized()
		}
		u, err := a.Store.UserByToken(c.Request().Context(), token, store.TokenAPI)
		return u, false, err
	}
	u, err := a.sessionUser(c)
	return u, err == nil, err
}

// sessionUser is the user of the request's session cookie (store.ErrNotFound without one).
func (a *Authenticator) sessionUser(c echo.Context) (store.User, error) {
	ck, err := c.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return store.User{}, store.ErrNotFound
	}
	return a.Store.UserByToken(c.Request().Context(), ck.Value, store.TokenSession)
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
