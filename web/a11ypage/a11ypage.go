// Package a11ypage is the accessibility statement at /accessibilita, as the AgID model
// declaration asks (legge 4/2004, d.lgs. 106/2018, UNI CEI EN 301549): the conformance status,
// the content that does not conform and why, how the statement was made, how to report a
// problem (a mailto to each comune's public address) and the enforcement procedure. Anyone may
// read it, signed in or not; the footer of every page links it.
package a11ypage

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/web/pages"
)

// Path is where the statement lives.
const Path = "/accessibilita"

// Options configure the page.
type Options struct {
	Pages  *pages.Pages
	Config *config.Config
}

// Handler serves the statement.
type Handler struct{ o Options }

// New checks the options.
func New(o Options) (*Handler, error) {
	if o.Pages == nil || o.Config == nil {
		return nil, errors.New("a11ypage: pages and config are required")
	}
	return &Handler{o: o}, nil
}

// Register is the page's route list.
func (h *Handler) Register(e *echo.Echo) {
	g := h.o.Pages.PublicGroup(e, Path)
	g.GET("", h.statement)
}

type view struct {
	L map[string]string
	// Contacts are where to report a problem: each comune's first public address.
	Contacts []contact
}

type contact struct {
	Name, Email, Mailto string
}

func (h *Handler) statement(c echo.Context) error {
	v := view{L: textsFor(pages.Lang(c))}
	for _, cm := range h.o.Config.Comuni {
		if len(cm.EmailAddresses) == 0 {
			continue
		}
		addr := cm.EmailAddresses[0]
		name := cm.Name
		if name == "" {
			name = cm.ID
		}
		// The subject makes the mail easy to route when it arrives, as a contact, in Sportello.
		v.Contacts = append(v.Contacts, contact{Name: name, Email: addr,
			Mailto: "mailto:" + addr + "?subject=" + url.PathEscape(v.L["mail_subject"])})
	}
	return h.o.Pages.Render(c, http.StatusOK, "accessibility", pages.View{Title: v.L["title"], Nav: "accessibility", Data: v})
}
