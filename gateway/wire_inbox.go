package gateway

import (
	"context"
	"errors"
	"strings"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/deskpages"
	"github.com/sportello/sportello/web/inbox"
	"github.com/sportello/sportello/web/pages"
)

// wireInbox mounts the operators' web pages: login and logout, the static files, and the inbox.
// Its actions go through g.Desk, the same desk the JSON API uses.
func (g *Gateway) wireInbox(ctx context.Context) error {
	var onLogout func(context.Context, store.User) error
	if g.Desk != nil {
		onLogout = g.Desk.SessionEnded
	}
	p, err := pages.New(pages.Options{Store: g.Store, SecureCookies: strings.HasPrefix(g.Config.PublicURL, "https://"),
		Location: g.Config.Location, Logger: g.Log, OnLastSessionEnd: onLogout, OnLogin: g.onLogin,
		Gate: auth.NewPasswordGate(auth.GateOptions{Concurrent: g.Config.Auth.LoginConcurrency})})
	if err != nil {
		return err
	}
	var d inbox.Desk
	if g.Desk != nil {
		d = deskForInbox{g.Desk}
	} else {
		g.Log.Warn("the inbox has no desk: its pages are read-only (no replies, assignment, resolution, presence or queues)")
	}
	in, err := inbox.New(inbox.Options{Pages: p, Store: g.Store, Config: g.Config, Hub: g.Hub, Desk: d, Logger: g.Log})
	if err != nil {
		return err
	}
	g.surfaces = append(g.surfaces, p, in)
	if g.Desk != nil {
		// Canned answers, business hours and the help page: changes go through the desk.
		dp, err := deskpages.New(deskpages.Options{Pages: p, Desk: g.Desk, Config: g.Config, Logger: g.Log})
		if err != nil {
			return err
		}
		g.surfaces = append(g.surfaces, dp)
	}
	g.services = append(g.services, service{name: "inbox live updates", run: in.Run})
	return nil
}

// deskForInbox adapts the desk to what the inbox asks of it; the desk's refusals become page
// problems carrying its status, code and message.
type deskForInbox struct{ d *desk.Desk }

func pageProblem(err error) error {
	var de *desk.Error
	if errors.As(err, &de) {
		return &pages.Problem{Status: de.Status, Code: de.Code, Message: de.Message}
	}
	return err
}

func (a deskForInbox) CanDial() bool { return a.d.CanDial() }

func (a deskForInbox) Dial(ctx context.Context, u store.User, contactID string) (string, error) {
	how, err := a.d.Dial(ctx, u, contactID)
	return how, pageProblem(err)
}

func (a deskForInbox) Reply(ctx context.Context, u store.User, contactID, body string) (channels.Message, error) {
	m, err := a.d.Reply(ctx, u, contactID, body)
	return m, pageProblem(err)
}

func (a deskForInbox) CanReplyByAppIO(comune string) bool { return a.d.CanReplyByAppIO(comune) }

func (a deskForInbox) ReplyVia(ctx context.Context, u store.User, contactID, body string, via channels.Kind) (channels.Message, error) {
	m, err := a.d.ReplyVia(ctx, u, contactID, body, via)
	return m, pageProblem(err)
}

func (a deskForInbox) AddFiscalCode(ctx context.Context, u store.User, citizenID, raw string) (string, error) {
	cf, err := a.d.AddFiscalCode(ctx, u, citizenID, raw)
	return cf, pageProblem(err)
}

func (a deskForInbox) Assign(ctx context.Context, u store.User, contactID, username string) error {
	return pageProblem(a.d.Assign(ctx, u, contactID, username))
}

func (a deskForInbox) Claim(ctx context.Context, u store.User, contactID string) error {
	return pageProblem(a.d.Claim(ctx, u, contactID))
}

func (a deskForInbox) Resolve(ctx context.Context, u store.User, contactID string, r inbox.Resolution) error {
	return pageProblem(a.d.Resolve(ctx, u, contactID, desk.Resolution{Outcome: r.Outcome, Category: r.Category, Office: r.Office, Note: r.Note}))
}

func (a deskForInbox) Route(ctx context.Context, u store.User, contactID, comune, category string) error {
	return pageProblem(a.d.Reroute(ctx, u, contactID, desk.Route{Comune: comune, Category: category}))
}

func (a deskForInbox) SetPresence(ctx context.Context, u store.User, status string) error {
	return pageProblem(a.d.SetPresence(ctx, u, status))
}

func (a deskForInbox) Merge(ctx context.Context, u store.User, intoID, fromID string) error {
	return pageProblem(a.d.Merge(ctx, u, intoID, fromID))
}

func (a deskForInbox) Queues(ctx context.Context, u store.User) ([]inbox.QueueStats, error) {
	qs, err := a.d.Queues(ctx, u)
	if err != nil {
		return nil, pageProblem(err)
	}
	out := make([]inbox.QueueStats, len(qs))
	for i, q := range qs {
		out[i] = inbox.QueueStats{ID: q.ID, Name: q.Name, Waiting: q.Waiting, OldestWaitSeconds: q.OldestWaitSeconds, OperatorsAvailable: q.OperatorsAvailable}
	}
	return out, nil
}

func (a deskForInbox) Offices(comune string) []config.Office { return a.d.Offices(comune) }

func (a deskForInbox) CannedFor(ctx context.Context, ct channels.Contact) ([]inbox.Canned, error) {
	cs, err := a.d.CannedFor(ctx, ct)
	if err != nil {
		return nil, err
	}
	out := make([]inbox.Canned, len(cs))
	for i, c := range cs {
		out[i] = inbox.Canned{ID: c.ID, Title: c.Title, Body: c.Body}
	}
	return out, nil
}

// EraseCitizen erases through the desk (live updates on every replica); the store's errors
// (not found, out of scope, files not scrubbed) pass through for the page to tell apart.
func (a deskForInbox) EraseCitizen(ctx context.Context, u store.User, citizenID, reason string) (store.ErasureCounts, error) {
	return a.d.EraseCitizen(ctx, u, citizenID, reason)
}
