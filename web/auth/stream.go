package auth

import (
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
)

// DefaultRecheck is how often a long-lived stream re-checks the credentials it was opened with,
// so a revoked or expired token, an ended session, a disabled user or a user whose role or
// comuni changed loses it within seconds even when the revocation's event was lost (or came
// from a command on another process with SQLite, which has no NOTIFY).
const DefaultRecheck = 5 * time.Second

// StreamGuard keeps a long-lived stream (Server-Sent Events) to what its user may see now. A
// stream renders every event with the user loaded when it opened; the guard tells it to end
// once that user is no longer what the database says, and the client reconnects through the
// normal checks with its current scope (or is refused).
type StreamGuard struct {
	auth   *Authenticator
	c      echo.Context
	opened store.User
	ticker *time.Ticker
}

// GuardStream starts guarding the request's stream, re-checking every `every`
// (DefaultRecheck when zero or less). Stop it when the stream ends.
func (a *Authenticator) GuardStream(c echo.Context, every time.Duration) *StreamGuard {
	if every <= 0 {
		every = DefaultRecheck
	}
	return &StreamGuard{auth: a, c: c, opened: User(c), ticker: time.NewTicker(every)}
}

// Recheck ticks when the stream should call StillEntitled.
func (g *StreamGuard) Recheck() <-chan time.Time { return g.ticker.C }

// Stop releases the guard's ticker.
func (g *StreamGuard) Stop() { g.ticker.Stop() }

// StillEntitled reports whether the credential the stream opened with still works and still
// belongs to the same user with the same role, comuni, categories and scope flags. A database
// error counts as no: the stream ends and the client reconnects through the normal checks.
func (g *StreamGuard) StillEntitled() bool {
	now, err := g.auth.credentialUser(g.c)
	return err == nil && sameEntitlement(g.opened, now)
}

// EndsStream reports whether e is a revocation for the stream's user that the re-check
// confirms (credentials ended, or role or scope changed): the stream must end now.
func (g *StreamGuard) EndsStream(e events.Event) bool {
	return e.Type == events.UserRevoked && e.UserID == g.opened.ID && !g.StillEntitled()
}

// credentialUser loads, fresh, the user of the very credential the request authenticated
// with: its session cookie for a cookie request, otherwise its bearer token.
func (a *Authenticator) credentialUser(c echo.Context) (store.User, error) {
	if ViaCookie(c) {
		return a.sessionUser(c)
	}
	u, _, err := a.Lookup(c)
	return u, err
}

// sameEntitlement reports whether now may see exactly what opened could: same user, role,
// categories, comuni and undecided contacts. Order does not matter.
func sameEntitlement(opened, now store.User) bool {
	return opened.ID == now.ID && opened.Role == now.Role && opened.SeesUndecided == now.SeesUndecided &&
		sameSet(opened.Comuni, now.Comuni) && sameSet(opened.Categories, now.Categories)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
