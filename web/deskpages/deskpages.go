// Package deskpages is the pages that set up the operators' desk: the canned answers
// (/admin/canned: per comune or shared, per channel, Italian and English, with each text's SMS
// segment count), each comune's business hours and holidays (/admin/hours) and the operators'
// help page (/aiuto: keyboard shortcuts and notifications). Every change goes through the desk,
// which checks the scope and writes the audit log; the session, CSRF, layout and shared texts
// come from web/pages. Each handler lives in its own file, this is the route list.
package deskpages

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/pages"
)

// Options configure the pages.
type Options struct {
	Pages  *pages.Pages
	Desk   *desk.Desk
	Config *config.Config
	Logger *slog.Logger
}

// Handler serves the desk pages.
type Handler struct{ o Options }

// New checks the options.
func New(o Options) (*Handler, error) {
	if o.Pages == nil || o.Desk == nil || o.Config == nil {
		return nil, errors.New("deskpages: pages, desk and config are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Handler{o: o}, nil
}

// Register is the desk pages' route list.
func (h *Handler) Register(e *echo.Echo) {
	canned := h.o.Pages.Group(e, "/admin/canned", store.RoleSupervisor)
	canned.GET("", h.cannedList)
	canned.POST("", h.cannedCreate)
	canned.GET("/:id", h.cannedEdit)
	canned.POST("/:id", h.cannedSave)
	canned.POST("/:id/delete", h.cannedDelete)
	hours := h.o.Pages.Group(e, "/admin/hours", store.RoleSupervisor)
	hours.GET("", h.hoursShow)
	hours.POST("/:comune", h.hoursSave, pages.RequireRole(store.RoleAdmin))
	help := h.o.Pages.Group(e, "/aiuto", "")
	help.GET("", h.help)
}

// problem turns a desk refusal into what the page shows: a missing or out-of-scope thing is
// the 404 page, anything else a message on the form in the page's language, with the desk's
// detail (with the status to answer).
func problem(l map[string]string, err error) (int, string, error) {
	var de *desk.Error
	if !errors.As(err, &de) {
		return 0, "", err
	}
	if de.Status == http.StatusNotFound {
		return 0, "", pages.NotFound()
	}
	msg, ok := l["err_"+de.Code]
	if !ok {
		return de.Status, de.Message, nil
	}
	if de.Code == "invalid_holiday" || de.Code == "invalid_placeholder" || de.Code == "invalid_hours" {
		msg += " (" + de.Message + ")"
	}
	return de.Status, msg, nil
}
