package alertpages_test

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/web/alertpages"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/webtest"
)

// A supervisor following a scheduled alert's progress (a stream that would stay open until it
// is sent, an hour later) is disabled: the revocation ends the stream at once.
func TestAlertProgressStreamEndsWhenSupervisorDisabled(t *testing.T) {
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
	a, err := alertstore.New(g.Store).CreateAlert(ctx, alertstore.Alert{Comune: "firenze", Category: "meteo",
		Message: "Allerta arancione", TextIT: "Allerta arancione", SendAt: time.Now().Add(time.Hour)}, alertstore.CreateAlertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lines := webtest.Stream(t, g.Echo, alertpages.Prefix+"/"+a.ID+"/events", webtest.Session(session))
	webtest.WaitLine(t, lines, "event: progress", 3*time.Second)

	if _, err := g.Store.DisableUser(ctx, "sup"); err != nil {
		t.Fatal(err)
	}
	if err := g.Hub.Publish(ctx, events.Event{Type: events.UserRevoked, UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	toldDone := false
	if !webtest.Ended(lines, auth.DefaultRecheck/2, func(l string) { toldDone = toldDone || l == "event: done" }) {
		t.Fatalf("a disabled supervisor's alert progress stream is still open %v later", auth.DefaultRecheck/2)
	}
	if toldDone {
		t.Fatal("the stream told the page the alert ended; it should just end, so the page reconnects and is refused")
	}
}
