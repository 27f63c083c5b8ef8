package gateway

import (
	"context"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"

	"github.com/sportello/sportello/alerts"
	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/jobs"
	"github.com/sportello/sportello/web/alertpages"
	"github.com/sportello/sportello/web/notifyapi"
	"github.com/sportello/sportello/web/pages"
)

// wireAlerts connects the notification service: SMS keywords and traffic answers, the fan-out
// workers and their background loop, delivery callbacks, and the comuni's API.
func (g *Gateway) wireAlerts(ctx context.Context) error {
	cfg := g.Config
	svc, err := alerts.New(alerts.Options{
		Store:       g.Store,
		FanoutStore: g.fanoutStore(),
		Config:      cfg,
		// Read at each send and each enqueue: the SMS sender and the job client may be built
		// after this wiring.
		Sender:         func() channels.Sender { return g.Senders[channels.SMS] },
		Jobs:           func() *jobs.Client { return g.Jobs },
		Lookup:         g.newSentLookup(),
		AppIO:          g.appIOClient(),
		Events:         g.Events,
		Logger:         g.Log.With("part", "alerts"),
		StatusCallback: cfg.PublicURL + "/webhooks/twilio/status",
		Stalled:        g.Metrics.AlertsStalled,
	})
	if err != nil {
		return err
	}
	api, err := notifyapi.New(notifyapi.Options{Alerts: svc, Store: g.Store, RequestsPerMinute: cfg.Alerts.RequestsPerMinute})
	if err != nil {
		return err
	}
	river.AddWorker(g.workers, &alerts.FanoutWorker{S: svc})
	river.AddWorker(g.workers, &alerts.PrepareWorker{S: svc})
	river.AddWorker(g.workers, &alerts.ConfirmWorker{S: svc})
	g.services = append(g.services, service{name: "alerts", run: svc.Run})
	g.smsKeywords = svc
	g.traffic = svc
	g.deliveries = append(g.deliveries, svc)
	g.surfaces = append(g.surfaces, api, &alertPagesSurface{g: g, svc: svc})
	return nil
}

// alertPagesSurface mounts the supervisors' alert pages on the inbox's page machinery
// (session, CSRF, layout, texts). wireInbox builds that after this wiring, so the pages are
// found among the surfaces when routes are registered; a second pages.Pages would cost another
// argon2 dummy hash (64 MB) at start-up.
type alertPagesSurface struct {
	g   *Gateway
	svc *alerts.Service
}

func (a *alertPagesSurface) Register(e *echo.Echo) {
	g := a.g
	var p *pages.Pages
	for _, s := range g.surfaces {
		if pp, ok := s.(*pages.Pages); ok {
			p = pp
		}
	}
	if p == nil {
		var err error
		p, err = pages.New(pages.Options{Store: g.Store, SecureCookies: strings.HasPrefix(g.Config.PublicURL, "https://"),
			Location: g.Config.Location, Logger: g.Log})
		if err != nil {
			g.Log.Error("the alert pages are not available", "err", err)
			return
		}
	}
	h, err := alertpages.New(alertpages.Options{Pages: p, Alerts: a.svc, Store: g.Store, Config: g.Config, Hub: g.Hub,
		Logger: g.Log.With("part", "alert pages")})
	if err != nil {
		g.Log.Error("the alert pages are not available", "err", err)
		return
	}
	h.Register(e)
}
