package operatorapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/operatorapi"
	"github.com/sportello/sportello/web/webtest"
)

// scopeChangeFixture is an operator of Firenze and Empoli with an open /api/v1/events stream.
type scopeChangeFixture struct {
	store *store.Store
	hub   *events.Hub
	user  store.User
	lines <-chan string
}

func openStreamOfFirenzeEmpoliOperator(t *testing.T, recheck time.Duration) scopeChangeFixture {
	t.Helper()
	s := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, store.User{Username: "op", Role: store.RoleOperator, PasswordHash: "x", Comuni: []string{"firenze", "empoli"}})
	if err != nil {
		t.Fatal(err)
	}
	token, err := s.CreateToken(ctx, u.ID, store.TokenAPI, 0)
	if err != nil {
		t.Fatal(err)
	}
	hub := events.NewHub()
	e := echo.New()
	(&operatorapi.Actions{Store: s, Auth: &auth.Authenticator{Store: s}, Hub: hub, Heartbeat: time.Hour, Recheck: recheck}).Register(e)
	lines := webtest.Stream(t, e, "/api/v1/events", webtest.Bearer(token))
	f := scopeChangeFixture{store: s, hub: hub, user: u, lines: lines}
	f.waitLine(t, ": connected")
	return f
}

// waitLine waits for a line starting with prefix and returns it; it fails on the stream's end.
func (f scopeChangeFixture) waitLine(t *testing.T, prefix string) string {
	t.Helper()
	return webtest.WaitLine(t, f.lines, prefix, 3*time.Second)
}

// waitEnd fails unless the stream ends within d; secret must not show before it does.
func (f scopeChangeFixture) waitEnd(t *testing.T, d time.Duration, secret string) {
	t.Helper()
	leaked := ""
	ended := webtest.Ended(f.lines, d, func(l string) {
		if leaked == "" && strings.Contains(l, secret) {
			leaked = l
		}
	})
	if leaked != "" {
		t.Fatalf("the stream delivered what the user may no longer see: %s", leaked)
	}
	if !ended {
		t.Fatalf("the stream is still open %v after the user's scope changed", d)
	}
}

// narrowToFirenze is what PATCH /api/v1/users/op {"comuni":["firenze"]} stores.
func (f scopeChangeFixture) narrowToFirenze(t *testing.T) {
	t.Helper()
	narrowed := []string{"firenze"}
	if err := f.store.UpdateUser(context.Background(), f.user.Username, store.UserChange{Comuni: &narrowed}); err != nil {
		t.Fatal(err)
	}
}

// publishContact stores a contact of comune and announces it; it returns the contact's id.
func (f scopeChangeFixture) publishContact(t *testing.T, comune, sid, body string) string {
	t.Helper()
	ctx := context.Background()
	r, err := f.store.Ingest(ctx, store.IngestRequest{Comune: comune, In: channels.InboundMessage{Channel: channels.SMS,
		ExternalID: sid, From: "+39347" + sid[2:], To: "+39055055", Body: body}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.hub.Publish(ctx, events.Event{Type: events.ContactCreated, ContactID: r.ContactID, Comune: comune}); err != nil {
		t.Fatal(err)
	}
	return r.ContactID
}

// The revocation event an admin's change publishes ends the stream at once, long before its
// periodic re-check: the operator reconnects with Firenze only.
func TestEventStreamEndsOnRevocationEventWhenComuniNarrowed(t *testing.T) {
	f := openStreamOfFirenzeEmpoliOperator(t, time.Hour)
	f.narrowToFirenze(t)
	if err := f.hub.Publish(context.Background(), events.Event{Type: events.UserRevoked, UserID: f.user.ID}); err != nil {
		t.Fatal(err)
	}
	f.publishContact(t, "empoli", "SM0000009", "segreto di Empoli")
	f.waitEnd(t, 2*time.Second, "segreto di Empoli")
}

// Without any event (a change made by another process on SQLite, or a lost announcement) the
// periodic re-check notices the narrowed comuni and ends the stream.
func TestEventStreamEndsAtRecheckWhenComuniNarrowed(t *testing.T) {
	f := openStreamOfFirenzeEmpoliOperator(t, 30*time.Millisecond)
	f.narrowToFirenze(t)
	f.waitEnd(t, 2*time.Second, "data: ")
}

// A role change (here a promotion) ends the stream too: what it shows depends on the role.
func TestEventStreamEndsAtRecheckWhenRoleChanged(t *testing.T) {
	f := openStreamOfFirenzeEmpoliOperator(t, 30*time.Millisecond)
	role := store.RoleSupervisor
	if err := f.store.UpdateUser(context.Background(), f.user.Username, store.UserChange{Role: &role}); err != nil {
		t.Fatal(err)
	}
	f.waitEnd(t, 2*time.Second, "data: ")
}

// Re-checks that find nothing changed, and other users' revocations, leave the stream open
// and delivering.
func TestEventStreamStaysOpenWhileScopeUnchanged(t *testing.T) {
	f := openStreamOfFirenzeEmpoliOperator(t, 30*time.Millisecond)
	if err := f.hub.Publish(context.Background(), events.Event{Type: events.UserRevoked, UserID: "someone-else"}); err != nil {
		t.Fatal(err)
	}
	if err := f.hub.Publish(context.Background(), events.Event{Type: events.UserRevoked, UserID: f.user.ID}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // several re-checks pass
	id := f.publishContact(t, "empoli", "SM0000010", "ancora di Empoli")
	if l := f.waitLine(t, "data: "); !strings.Contains(l, id) {
		t.Fatalf("data: %s", l)
	}
}
