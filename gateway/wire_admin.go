package gateway

import (
	"context"
	"errors"

	"github.com/sportello/sportello/admin"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/adminpages"
	"github.com/sportello/sportello/web/operatorapi"
	"github.com/sportello/sportello/web/pages"
)

// wireAdmin mounts the administration of people and keys (contract section 13): its API and
// its pages, both on the one admin service. It runs after wireInbox, whose pages it shares.
func (g *Gateway) wireAdmin(context.Context) error {
	var p *pages.Pages
	for _, s := range g.surfaces {
		if pp, ok := s.(*pages.Pages); ok {
			p = pp
		}
	}
	if p == nil {
		return errors.New("gateway: the admin pages need the inbox's pages")
	}
	svc, err := admin.New(admin.Options{Store: g.Store, Config: g.Config, Events: g.Events, Gate: p.Gate(),
		Attempts: p.Attempts(), TokenTTL: g.Config.Auth.TokenTTL, Logger: g.Log.With("part", "admin")})
	if err != nil {
		return err
	}
	h, err := adminpages.New(adminpages.Options{Pages: p, Admin: svc, PublicURL: g.Config.PublicURL})
	if err != nil {
		return err
	}
	g.surfaces = append(g.surfaces, &operatorapi.Admin{Auth: g.authn, Admin: svc}, h)
	return nil
}

// onLogin applies a user's preferences at login: the presence they start with (through the
// desk, so routing hears of it) and the language the pages speak.
func (g *Gateway) onLogin(ctx context.Context, u store.User) (string, error) {
	rec, err := g.Store.UserRecordOf(ctx, u.Username)
	if err != nil {
		return "", err
	}
	if g.Desk == nil {
		return rec.Lang, nil
	}
	// A presence to start with, chosen on the account page, wins; otherwise the presence the
	// user last chose comes back (issue: operators started "Non in linea" at every login).
	if rec.DefaultPresence != "" {
		if rec.DefaultPresence != rec.Presence {
			err = g.Desk.SetPresence(ctx, u, rec.DefaultPresence)
		}
		return rec.Lang, err
	}
	return rec.Lang, g.Desk.SessionStarted(ctx, u)
}
