// Package auditpages is the administrators' audit log in the browser: who did what to which
// contact or citizen, and when, filtered by user, action, contact and dates, newest first and
// a page at a time. It reads the same store query as GET /api/v1/audit, so an admin limited to
// some comuni sees only their entries. The session, CSRF, layout and texts come from web/pages;
// each handler lives in its own file, this is the route list.
package auditpages

import (
	"errors"
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/pages"
)

// Prefix is where the pages live.
const Prefix = "/admin/audit"

// Options configure the pages.
type Options struct {
	Pages  *pages.Pages
	Store  *store.Store
	Logger *slog.Logger
	// PageSize is how many entries a page shows (50).
	PageSize int
}

// Handler serves the audit pages.
type Handler struct{ o Options }

// New checks the options and fills the defaults.
func New(o Options) (*Handler, error) {
	if o.Pages == nil || o.Store == nil {
		return nil, errors.New("auditpages: pages and store are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.PageSize == 0 {
		o.PageSize = 50
	}
	if o.PageSize < 1 || o.PageSize > 500 {
		return nil, errors.New("auditpages: the page size must be between 1 and 500")
	}
	return &Handler{o: o}, nil
}

// Register is the audit pages' route list: administrators only, as the API's audit list.
func (h *Handler) Register(e *echo.Echo) {
	g := h.o.Pages.Group(e, Prefix, store.RoleAdmin)
	g.GET("", h.list)
}
