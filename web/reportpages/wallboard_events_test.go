package reportpages_test

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/gateway"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/webtest"
)

// wallboardStream is a Firenze supervisor watching /supervisor/wallboard/events.
type wallboardStream struct {
	gateway *gateway.Gateway
	user    store.User
	lines   <-chan string
}

func openWallboardStream(t *testing.T) wallboardStream {
	t.Helper()
	g := webtest.Gateway(t, "firenze")
	ctx := context.Background()
	u, err := g.Store.CreateUser(ctx, store.User{Username: "sup", Role: store.RoleSupervisor, PasswordHash: "x", Comuni: []string{"firenze"}})
	if err != nil {
		t.Fatal(err)
	}
	session, err := g.Store.CreateToken(ctx, u.ID, store.TokenSession, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	lines := webtest.Stream(t, g.Echo, "/supervisor/wallboard/events", webtest.Session(session))
	webtest.WaitLine(t, lines, "event: board", 3*time.Second)
	return wallboardStream{gateway: g, user: u, lines: lines}
}

// waitEnd fails unless the stream ends within d.
func (w wallboardStream) waitEnd(t *testing.T, d time.Duration) {
	t.Helper()
	if !webtest.Ended(w.lines, d, nil) {
		t.Fatalf("the wallboard stream is still open %v later", d)
	}
}

// Disabling the supervisor publishes their revocation: the board stops at once, well before
// the periodic re-check.
func TestWallboardStreamEndsWhenSupervisorDisabled(t *testing.T) {
	w := openWallboardStream(t)
	ctx := context.Background()
	if _, err := w.gateway.Store.DisableUser(ctx, "sup"); err != nil {
		t.Fatal(err)
	}
	if err := w.gateway.Hub.Publish(ctx, events.Event{Type: events.UserRevoked, UserID: w.user.ID}); err != nil {
		t.Fatal(err)
	}
	w.waitEnd(t, auth.DefaultRecheck/2)
}

// A supervisor demoted to operator with no event announced (another process on SQLite) loses
// the board at the periodic re-check.
func TestWallboardStreamEndsAtRecheckWhenSupervisorDemoted(t *testing.T) {
	w := openWallboardStream(t)
	operator := store.RoleOperator
	if err := w.gateway.Store.UpdateUser(context.Background(), "sup", store.UserChange{Role: &operator}); err != nil {
		t.Fatal(err)
	}
	w.waitEnd(t, auth.DefaultRecheck+2*time.Second)
}
