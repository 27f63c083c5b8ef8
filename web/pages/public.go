package pages

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// PublicGroup returns a route group for pages anyone may read (the accessibility statement):
// security headers, HTML error pages and CSRF as every page, and the signed-in user when there
// is one, so the header shows their sections; anonymous visitors stay.
func (p *Pages) PublicGroup(e *echo.Echo, prefix string) *echo.Group {
	return e.Group(prefix, p.Headers, p.ErrorPages, p.OptionalSession, p.CSRF)
}

// OptionalSession puts the signed-in user on the request when the session is live, and lets
// anyone else through as anonymous.
func (p *Pages) OptionalSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, err := p.sessionUser(c)
		switch {
		case err == nil:
			auth.SetUser(c, u, true)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		return next(c)
	}
}
