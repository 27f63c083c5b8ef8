package inbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/webtest"
)

// An operator of Firenze and Empoli has the inbox open; an admin narrows them to Firenze and
// announces it: the live stream ends at once, and the browser reconnects with Firenze only.
func TestInboxEventStreamEndsWhenComuniNarrowed(t *testing.T) {
	g := webtest.Gateway(t, "firenze", "empoli")
	ctx := context.Background()
	u, err := g.Store.CreateUser(ctx, store.User{Username: "op", Role: store.RoleOperator, PasswordHash: "x", Comuni: []string{"firenze", "empoli"}})
	if err != nil {
		t.Fatal(err)
	}
	session, err := g.Store.CreateToken(ctx, u.ID, store.TokenSession, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	lines := webtest.Stream(t, g.Echo, "/inbox/events", webtest.Session(session))

	narrowed := []string{"firenze"}
	if err := g.Store.UpdateUser(ctx, "op", store.UserChange{Comuni: &narrowed}); err != nil {
		t.Fatal(err)
	}
	if err := g.Hub.Publish(ctx, events.Event{Type: events.UserRevoked, UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	if !webtest.Ended(lines, auth.DefaultRecheck/2, nil) {
		t.Fatalf("the inbox stream keeps the comuni it opened with %v after they were narrowed", auth.DefaultRecheck/2)
	}
}
