package gateway

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/reports"
	"github.com/sportello/sportello/web/pages"
	"github.com/sportello/sportello/web/reportapi"
	"github.com/sportello/sportello/web/reportpages"
)

// wireReports mounts the reports' API (contract section 7).
func (g *Gateway) wireReports(context.Context) error {
	ro := reports.Options{Store: g.Store, Config: g.Config}
	if g.Desk != nil {
		ro.Calendar = g.Desk.Hours()
	}
	svc, err := reports.New(ro)
	if err != nil {
		return err
	}
	g.reports = svc
	g.surfaces = append(g.surfaces, &reportapi.API{Reports: svc, Store: g.Store, Auth: g.authn, Logger: g.Log.With("part", "reports"),
		KeyRequestsPerMinute: g.Config.Alerts.RequestsPerMinute}, &reportPagesSurface{g: g})
	return nil
}

// reportPagesSurface mounts the supervisors' report pages and wallboard on the inbox's page
// machinery, found among the surfaces when routes are registered (as the alert pages do).
type reportPagesSurface struct{ g *Gateway }

func (r *reportPagesSurface) Register(e *echo.Echo) {
	g := r.g
	var p *pages.Pages
	for _, s := range g.surfaces {
		if pp, ok := s.(*pages.Pages); ok {
			p = pp
		}
	}
	if p == nil || g.Desk == nil {
		g.Log.Error("the report pages are not available: no inbox pages or desk")
		return
	}
	h, err := reportpages.New(reportpages.Options{Pages: p, Reports: g.reports, Store: g.Store, Config: g.Config, Desk: g.Desk,
		Hub: g.Hub, Logger: g.Log.With("part", "report pages")})
	if err != nil {
		g.Log.Error("the report pages are not available", "err", err)
		return
	}
	h.Register(e)
}
