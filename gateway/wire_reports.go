package gateway

import (
	"context"

	"github.com/sportello/sportello/reports"
	"github.com/sportello/sportello/web/reportapi"
)

// wireReports mounts the reports' API (contract section 7).
func (g *Gateway) wireReports(context.Context) error {
	svc, err := reports.New(reports.Options{Store: g.Store, Config: g.Config})
	if err != nil {
		return err
	}
	g.reports = svc
	g.surfaces = append(g.surfaces, &reportapi.API{Reports: svc, Store: g.Store, Auth: g.authn})
	return nil
}
