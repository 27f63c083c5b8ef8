// Package alertpages is the supervisors' alert pages: compose an alert with a live segment
// counter and a preview of what subscribers will receive, send it, follow its delivery on a
// live progress bar (Server-Sent Events from the alert's progress events, with polling as the
// fallback), and see the subscribers per comune and topic. The session, CSRF, layout and texts
// come from web/pages; each handler lives in its own file, this is the route list.
package alertpages

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/alerts"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// Prefix is where the pages live.
const Prefix = "/supervisor/alerts"

// Options configure the pages.
type Options struct {
	Pages  *pages.Pages
	Alerts *alerts.Service
	Store  *store.Store
	Config *config.Config
	// Hub delivers alert progress events for the live progress bar.
	Hub    *events.Hub
	Logger *slog.Logger
	// Heartbeat keeps the event stream open through proxies (15s).
	Heartbeat time.Duration
}

// Handler serves the alert pages.
type Handler struct{ o Options }

// New checks the options.
func New(o Options) (*Handler, error) {
	if o.Pages == nil || o.Alerts == nil || o.Store == nil || o.Config == nil {
		return nil, errors.New("alertpages: pages, alerts, store and config are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = 15 * time.Second
	}
	return &Handler{o: o}, nil
}

// Register is the alert pages' route list: supervisors and admins only.
func (h *Handler) Register(e *echo.Echo) {
	g := h.o.Pages.Group(e, Prefix, store.RoleSupervisor)
	g.GET("", h.list)
	g.POST("", h.create)
	g.POST("/preview", h.preview)
	g.GET("/:id", h.detail)
	g.GET("/:id/progress", h.progress)
	g.GET("/:id/events", h.events)
	g.POST("/:id/cancel", h.cancel)
}

// inScope reports whether the user may see and act for a comune.
func inScope(u store.User, comune string) bool {
	if len(u.Comuni) == 0 {
		return true
	}
	for _, c := range u.Comuni {
		if c == comune {
			return true
		}
	}
	return false
}

// scopeComune is the comune filter of the user's lists: "" for every comune, or their only one.
func (h *Handler) comuniOf(u store.User) []config.Comune {
	var out []config.Comune
	for _, cm := range h.o.Config.Comuni {
		if inScope(u, cm.ID) {
			out = append(out, cm)
		}
	}
	return out
}

// alertOf loads an alert the user may see; anything else is the same 404.
func (h *Handler) alertOf(c echo.Context) (alerts.AlertStatus, error) {
	st, err := h.o.Alerts.GetAlert(c.Request().Context(), "", c.Param("id"))
	var re *alerts.RequestError
	if errors.As(err, &re) && re.Kind == alerts.NotFound || err == nil && !inScope(auth.User(c), st.Comune) {
		return alerts.AlertStatus{}, pages.NotFound()
	}
	return st, err
}

// problem turns the service's refusals into a page problem with its words.
func problem(err error) error {
	var re *alerts.RequestError
	if errors.As(err, &re) {
		status := http.StatusBadRequest
		switch re.Kind {
		case alerts.NotFound:
			return pages.NotFound()
		case alerts.Conflict:
			status = http.StatusConflict
		}
		return &pages.Problem{Status: status, Code: re.Code, Message: re.Message}
	}
	return err
}
