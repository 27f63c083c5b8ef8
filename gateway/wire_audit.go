package gateway

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/a11ypage"
	"github.com/sportello/sportello/web/auditpages"
	"github.com/sportello/sportello/web/pages"
)

// wireAuditPages mounts the admins' audit log page and the public accessibility statement on
// the inbox's page machinery.
func (g *Gateway) wireAuditPages(context.Context) error {
	g.surfaces = append(g.surfaces, &auditPagesSurface{g: g})
	return nil
}

// auditPagesSurface finds the pages among the surfaces when routes are registered (as the
// report pages do).
type auditPagesSurface struct{ g *Gateway }

func (s *auditPagesSurface) Register(e *echo.Echo) {
	g := s.g
	var p *pages.Pages
	for _, sf := range g.surfaces {
		if pp, ok := sf.(*pages.Pages); ok {
			p = pp
		}
	}
	if p == nil {
		g.Log.Error("the audit pages and the accessibility statement are not available: no inbox pages")
		return
	}
	h, err := auditpages.New(auditpages.Options{Pages: p, Store: g.Store, Logger: g.Log.With("part", "audit pages")})
	if err != nil {
		g.Log.Error("the audit pages are not available", "err", err)
		return
	}
	h.Register(e)
	st, err := a11ypage.New(a11ypage.Options{Pages: p, Config: g.Config})
	if err != nil {
		g.Log.Error("the accessibility statement is not available", "err", err)
		return
	}
	st.Register(e)
}
