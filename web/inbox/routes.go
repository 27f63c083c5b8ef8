// Package inbox is the operators' web inbox: contacts by queue with filters and search, a
// contact's thread across channels, replies, assignment and resolution, the citizen's history,
// the presence switch and, for supervisors, the live queues. Pages are rendered on the server
// (html/template through web/pages); a little plain JavaScript adds the live updates from the
// /inbox/events stream, the SMS segment counter and the dialogs. Each handler lives in its own
// file; this is the route list.
package inbox

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/pages"
)

// Options wire the inbox.
type Options struct {
	Pages  *pages.Pages
	Store  *store.Store
	Config *config.Config
	// Hub feeds the live updates (on PostgreSQL it relays every replica's events).
	Hub    *events.Hub
	Desk   Desk
	Logger *slog.Logger
}

// Inbox serves the inbox pages.
type Inbox struct {
	o     Options
	names names
	// done ends the live streams when the gateway stops (Shutdown does not cancel requests).
	done     chan struct{}
	stopOnce sync.Once
}

// New validates the options.
func New(o Options) (*Inbox, error) {
	switch {
	case o.Pages == nil:
		return nil, errors.New("inbox: pages are required")
	case o.Store == nil:
		return nil, errors.New("inbox: a store is required")
	case o.Config == nil:
		return nil, errors.New("inbox: the config is required")
	case o.Hub == nil:
		return nil, errors.New("inbox: an event hub is required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Inbox{o: o, names: newNames(o.Config), done: make(chan struct{})}, nil
}

// Run keeps the live streams open until ctx ends, then closes them (a gateway service).
func (in *Inbox) Run(ctx context.Context) error {
	<-ctx.Done()
	in.stopOnce.Do(func() { close(in.done) })
	return nil
}

// Register is the inbox's route list.
func (in *Inbox) Register(e *echo.Echo) {
	g := in.o.Pages.Group(e, "/inbox", "")
	g.GET("", in.list)
	g.GET("/events", in.events)
	g.GET("/contacts/:id", in.contact)
	g.GET("/citizens/:id", in.citizen)
	if in.o.Desk == nil {
		// Without a desk the inbox only reads; the gateway logs why.
		return
	}
	in.registerActions(g)
	sup := in.o.Pages.Group(e, "/inbox/queues", store.RoleSupervisor)
	sup.GET("", in.queues)
	sup.GET("/live", in.queuesLive)
	g.GET("/outbox", in.outbox)
	adm := in.o.Pages.Group(e, "/inbox/citizens", store.RoleAdmin)
	adm.POST("/:id/erase", in.erase)
}
