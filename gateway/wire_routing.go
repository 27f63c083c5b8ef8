package gateway

import (
	"context"

	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/jobs"
	"github.com/sportello/sportello/web/operatorapi"
)

// wireRouting connects the routing core and the operators' desk: the decider (comune,
// category, queue, SLA), automatic assignment after each new contact, closed-hours answers on
// SMS (TwiML) and email (a durable job in the storing transaction), the voice menu's hours,
// delivery callbacks for replies, the reply/forward workers, the SLA sweep, and the write side
// of the operator API.
func (g *Gateway) wireRouting(ctx context.Context) error {
	d, err := desk.New(desk.Options{
		Store:  g.Store,
		Config: g.Config,
		// g.Jobs is built after the wiring: read it when a job is enqueued.
		Jobs:    func() *jobs.Client { return g.Jobs },
		Events:  g.Events,
		Senders: g.Senders,
		Text:    g.Text,
		Metrics: g.Metrics,
		Logger:  g.Log.With("component", "desk"),
		// Settles an interrupted reply with the provider before any resend.
		Lookup: g.newSentLookup(),
	})
	if err != nil {
		return err
	}
	g.Desk = d
	// A fresh database starts with the built-in canned answers and each comune's calendar
	// (the config's hours, the public holidays, the patron saint); later starts keep the edits.
	if err := d.SeedCanned(ctx); err != nil {
		return err
	}
	if err := d.SeedCalendars(ctx); err != nil {
		return err
	}
	g.Ingest.SetDecider(d)
	g.Ingest.AddFollower(d)
	g.Ingest.AddInTx(d.AutoReplyEmailTx)
	g.hours = d.Hours()
	g.smsAutoReplies = d
	g.deliveries = append(g.deliveries, d)
	d.RegisterWorkers(g.workers)
	g.services = append(g.services, service{name: "sla", run: d.RunSLA})
	g.services = append(g.services, service{name: "calendar edits", run: func(ctx context.Context) error {
		sub, stop := g.Hub.Subscribe(64)
		defer stop()
		return d.FollowCalendarEdits(ctx, sub)
	}})
	g.surfaces = append(g.surfaces, &operatorapi.Actions{Store: g.Store, Auth: g.authn, Desk: d, Hub: g.Hub, Logger: g.Log})
	return nil
}
