// Package reportpages is the supervisors' figures: the reports page (date range and comune
// pickers; contacts per day by channel, category mix, outcomes, calls offered, answered and
// abandoned, service level per day against its target, each an SVG chart drawn on the server
// with its data table beside it; the CSV download; an Erlang C what-if form) and the live
// wallboard (Server-Sent Events: waiting per queue, longest wait, operators by presence,
// today's answered, abandoned and service level). The session, layout and shared texts come
// from web/pages; each handler lives in its own file, this is the route list.
package reportpages

import (
	"errors"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/reports"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/pages"
)

// Options configure the pages.
type Options struct {
	Pages   *pages.Pages
	Reports *reports.Service
	Store   *store.Store
	Config  *config.Config
	// Desk gives the queues' waiting contacts for the wallboard.
	Desk *desk.Desk
	// Hub delivers the revocation events that end a wallboard stream at once (nil: it ends at
	// its next re-check, auth.DefaultRecheck).
	Hub    *events.Hub
	Logger *slog.Logger
	// Refresh is how often the wallboard's stream sends a new picture (2 s).
	Refresh time.Duration
}

// Handler serves the pages.
type Handler struct{ o Options }

// New checks the options.
func New(o Options) (*Handler, error) {
	if o.Pages == nil || o.Reports == nil || o.Store == nil || o.Config == nil || o.Desk == nil {
		return nil, errors.New("reportpages: pages, reports, store, config and desk are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Refresh == 0 {
		o.Refresh = 2 * time.Second
	}
	return &Handler{o: o}, nil
}

// Register is the pages' route list: supervisors and admins only.
func (h *Handler) Register(e *echo.Echo) {
	g := h.o.Pages.Group(e, "/supervisor", store.RoleSupervisor)
	g.GET("/reports", h.reportPage)
	g.GET("/wallboard", h.wallboard)
	g.GET("/wallboard/events", h.wallboardEvents)
}
