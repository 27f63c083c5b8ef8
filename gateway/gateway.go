// Package gateway assembles one Sportello process from the configuration: store, background
// jobs, live events, the ingest pipeline, every adapter and every HTTP surface. `sportello
// serve` and the integration tests both run it, so what is tested is what runs.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"

	"github.com/sportello/sportello/adapters/cti"
	"github.com/sportello/sportello/adapters/twilio"
	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/ingest"
	"github.com/sportello/sportello/jobs"
	"github.com/sportello/sportello/metrics"
	"github.com/sportello/sportello/reports"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/templates"
	"github.com/sportello/sportello/web"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/operatorapi"
)

// Gateway is one running Sportello process.
type Gateway struct {
	Config  *config.Config
	Store   *store.Store
	Jobs    *jobs.Client
	Hub     *events.Hub
	Events  events.Publisher
	Ingest  *ingest.Service
	Metrics *metrics.Metrics
	Text    *templates.Text
	Echo    *echo.Echo
	Log     *slog.Logger

	book      *addressBook
	workers   *river.Workers
	surfaces  []web.Surface
	closeJobs func()
	// notifier relays Events to the other replicas on PostgreSQL (nil on SQLite).
	notifier *events.BatchingNotifier
	pools    pools // connection budgets on PostgreSQL (pools.go)
	services []service
	periodic []*river.PeriodicJob

	// Desk performs operator actions for the API and the inbox (built by wireRouting).
	Desk *desk.Desk
	// Senders deliver outbound messages by channel (SMS: Twilio or the local outbox).
	Senders map[channels.Kind]channels.Sender
	// Hooks the feature wiring fills in before the Twilio webhooks are built.
	smsKeywords    twilio.KeywordHandler
	smsAutoReplies twilio.AutoReplier
	traffic        twilio.TrafficInfo
	hours          twilio.Hours
	callDesk       twilio.CallDesk
	deliveries     []channels.DeliverySink
	authn          *auth.Authenticator
	reports        *reports.Service

	mu       sync.Mutex
	httpAddr string
}

// service is a long-running part started by Run (SMTP server, IMAP pollers, SLA watcher).
type service struct {
	name string
	run  func(ctx context.Context) error
}

// New opens and migrates the database and wires every part. Nothing listens until Run.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Gateway, error) {
	if log == nil {
		log = slog.Default()
	}
	g := &Gateway{Config: cfg, Log: log, Hub: events.NewHub(), Metrics: metrics.New(), workers: river.NewWorkers(), book: newAddressBook(cfg)}
	var err error
	if g.Text, err = templates.ParseText(); err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	if g.Store, err = store.Open(ctx, store.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir, MaxOpenConns: storeConns(g), Writers: cfg.Database.Writers, Logger: log,
		UndecidedComuni: cfg.UndecidedComuni()}); err != nil {
		return nil, err
	}
	if err := g.migrate(ctx); err != nil {
		return nil, errors.Join(err, g.Store.Close())
	}
	g.Events = g.Hub
	if g.Store.Dialect() == store.Postgres {
		g.notifier = events.NewBatchingNotifier(g.Store.DB(), log)
		g.Events = g.notifier
	}
	if err := g.openPools(ctx); err != nil {
		g.closeNotifier()
		return nil, errors.Join(err, g.pools.close(), g.Store.Close())
	}
	if err := g.wire(ctx); err != nil {
		g.closeNotifier()
		return nil, errors.Join(err, g.pools.close(), g.Store.Close())
	}
	return g, nil
}

func (g *Gateway) migrate(ctx context.Context) error {
	return jobs.Migrate(ctx, g.Store) // ours, then River's, under one lock
}

// Migrate applies every migration of a database and exits (`sportello migrate`).
func Migrate(ctx context.Context, cfg *config.Config) (err error) {
	s, err := store.Open(ctx, store.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}()
	return jobs.Migrate(ctx, s)
}

func (g *Gateway) wire(ctx context.Context) error {
	cfg := g.Config
	var err error
	// The decider (the router, through the desk) is set by wireRouting.
	g.Ingest, err = ingest.New(ingest.Options{Store: g.Store, Events: g.Events, Metrics: g.Metrics, Logger: g.Log})
	if err != nil {
		return err
	}
	g.authn = &auth.Authenticator{Store: g.Store}
	g.Senders = map[channels.Kind]channels.Sender{}
	// Each feature wires itself in its own file; the order follows the data: channels out,
	// then routing, email and fax, alerts, and the pages last.
	for _, w := range []func(context.Context) error{g.wireSMS, g.wireAppIO, g.wireRouting, g.wireVoice, g.wireEmail, g.wireAlerts, g.wireInbox, g.wireAdmin, g.wireReports, g.wireAuditPages} {
		if err := w(ctx); err != nil {
			return err
		}
	}
	tw, err := twilio.NewWebhooks(twilio.WebhookOptions{
		AuthToken: config.Usable(cfg.Twilio.AuthToken), AccountSID: cfg.Twilio.AccountSID, PublicURL: cfg.PublicURL, SkipSignature: cfg.Twilio.SkipSignature,
		Sink: g.Ingest, Calls: g.Ingest, Deliveries: deliverySinks(g.deliveries), Text: g.Text, ComuneOf: g.book.comuneOf,
		Hours: g.hours, Keywords: g.smsKeywords, AutoReplies: g.smsAutoReplies, Traffic: g.traffic, Logger: g.Log,
		Desk: g.callDesk, CallbackOfferSeconds: cfg.Voice.CallbackOfferSeconds, Record: cfg.Voice.Record,
	})
	if err != nil {
		return err
	}
	sources, err := ctiSources(cfg.CTI)
	if err != nil {
		return err
	}
	if !cfg.Demo { // the demo's token is public anyway
		for _, w := range cfg.Warnings() {
			g.Log.Warn(w)
		}
	}
	ctiHandler, err := cti.New(cti.Options{Sources: sources, Operators: &operatorDirectory{s: g.Store},
		Sink: g.Ingest, Calls: g.Ingest, Directory: &citizenDirectory{s: g.Store}, Logger: g.Log,
		ComuneOf: func(n string) string { id, _ := g.book.comuneOf(n); return id }})
	if err != nil {
		return err
	}
	g.surfaces = append(g.surfaces, tw, ctiHandler, &operatorapi.API{Store: g.Store, Auth: g.authn,
		Media: operatorapi.NewTwilioMedia(cfg.Twilio.APIBaseURL, cfg.Twilio.AccountSID, cfg.Twilio.AuthToken)})
	river.AddWorker(g.workers, &purgeTokensWorker{s: g.Store})
	river.AddWorker(g.workers, &retentionWorker{s: g.Store, r: cfg.Retention, log: g.Log})
	river.AddWorker(g.workers, &purgeRecordingsWorker{purge: g.Desk.PurgeRecordings, log: g.Log})
	g.Jobs, g.closeJobs, err = jobs.New(ctx, g.Store, g.workers, jobs.Options{DatabaseURL: cfg.DatabaseURL, DB: g.pools.river,
		MaxWorkers: cfg.Jobs.MaxWorkers, FetchCooldown: cfg.Jobs.FetchCooldown, FetchPoll: cfg.Jobs.FetchPoll, Logger: routineToDebug(g.Log),
		Periodic: append(housekeepingJobs(cfg.Retention), g.periodic...)})
	if err != nil {
		return err
	}
	g.Echo = web.New(web.Options{Store: g.Store, Metrics: g.Metrics, Logger: g.Log, MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
		TrustProxy: cfg.HTTP.TrustProxy, MetricsToken: config.Usable(cfg.Metrics.Token), Surfaces: g.surfaces})
	return nil
}

// HTTPAddr is the address the HTTP server listens on, once Run started it.
func (g *Gateway) HTTPAddr() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.httpAddr
}

// Run serves until ctx ends, then shuts down gracefully: stop accepting, finish what was
// accepted, stop the workers, close the store. ready (may be nil) is closed once listening.
func (g *Gateway) Run(ctx context.Context, ready chan<- struct{}) error {
	ln, err := net.Listen("tcp", g.Config.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	g.mu.Lock()
	g.httpAddr = ln.Addr().String()
	g.mu.Unlock()
	srv := &http.Server{Handler: g.Echo, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 0 /* SSE streams stay open */, IdleTimeout: 120 * time.Second}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if g.Store.Dialect() == store.Postgres {
		go events.Listen(runCtx, g.Config.DatabaseURL, g.Hub, g.Log)
	}
	// River treats the end of its start context as "stop and cancel": running jobs would be
	// cancelled mid-send and retried. So its context ends only after a soft Stop (below).
	jobsCtx, jobsCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer jobsCancel()
	if err := g.Jobs.Start(jobsCtx); err != nil {
		ln.Close()
		return fmt.Errorf("jobs: %w", err)
	}
	errs := make(chan error, len(g.services)+1)
	var wg sync.WaitGroup
	for _, s := range g.services {
		wg.Add(1)
		go func(s service) {
			defer wg.Done()
			if err := s.run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
				errs <- fmt.Errorf("%s: %w", s.name, err)
			}
		}(s)
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("http: %w", err)
		}
	}()
	g.Log.Info("sportello is serving", "http", g.httpAddr, "database", string(g.Store.Dialect()), "public_url", g.Config.PublicURL)
	if ready != nil {
		close(ready)
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errs:
		g.Log.Error("a service failed; shutting down", "err", runErr)
	}
	g.Log.Info("shutting down")
	shutCtx, shutCancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer shutCancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		g.Log.Warn("http shutdown", "err", err)
	}
	cancel()
	wg.Wait()
	g.Ingest.Close()
	g.stopJobs()
	jobsCancel()
	return runErr
}

// jobsSoftStop is how long running jobs get to finish at shutdown (a reply send takes at most
// its 10 s Twilio timeout); jobsHardStop how long cancelled ones get to record that.
const (
	jobsSoftStop = 15 * time.Second
	jobsHardStop = 5 * time.Second
)

// stopJobs stops fetching jobs and waits for the running ones to finish; after jobsSoftStop it
// cancels those still running (they are retried, and an SMS reply is then settled with the
// provider before being sent again).
func (g *Gateway) stopJobs() {
	softCtx, softCancel := context.WithTimeout(context.Background(), jobsSoftStop)
	defer softCancel()
	err := g.Jobs.Stop(softCtx)
	if err == nil {
		return
	}
	g.Log.Warn("jobs still running after the soft stop timeout: cancelling them", "timeout", jobsSoftStop, "err", err)
	hardCtx, hardCancel := context.WithTimeout(context.Background(), jobsHardStop)
	defer hardCancel()
	if err := g.Jobs.StopAndCancel(hardCtx); err != nil {
		g.Log.Warn("jobs shutdown", "err", err)
	}
}

// Close releases the database after Run returned.
func (g *Gateway) Close() error {
	g.Ingest.Close()
	if g.closeJobs != nil {
		g.closeJobs()
	}
	g.closeNotifier() // after everything that publishes, before the database closes
	if err := g.pools.close(); err != nil {
		g.Log.Warn("closing the connection pools", "err", err)
	}
	return g.Store.Close()
}

// closeNotifier sends the live events still queued for the other replicas and stops.
func (g *Gateway) closeNotifier() {
	if g.notifier != nil {
		g.notifier.Close()
	}
}
