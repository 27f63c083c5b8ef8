package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
	"github.com/sportello/sportello/web/auth"
)

// guardedStream is a stream request of an operator of Firenze and Empoli, and its guard.
type guardedStream struct {
	store *store.Store
	user  store.User
	token string
	guard *auth.StreamGuard
}

// openGuardedStream authenticates a request the way the stream's middleware does (bearer
// token, or session cookie with viaCookie) and guards it.
func openGuardedStream(t *testing.T, kind string) guardedStream {
	t.Helper()
	s := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, store.User{Username: "op", Role: store.RoleOperator, PasswordHash: "x",
		Comuni: []string{"firenze", "empoli"}, Categories: []string{"tributi"}})
	if err != nil {
		t.Fatal(err)
	}
	token, err := s.CreateToken(ctx, u.ID, kind, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/events", nil)
	viaCookie := kind == store.TokenSession
	if viaCookie {
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: token})
		// A page request's stray header is not what the page's session middleware checked.
		req.Header.Set(echo.HeaderAuthorization, "Bearer not-a-token")
	} else {
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+token)
	}
	c := echo.New().NewContext(req, httptest.NewRecorder())
	opened, err := s.UserByToken(ctx, token, kind)
	if err != nil {
		t.Fatal(err)
	}
	auth.SetUser(c, opened, viaCookie)
	g := (&auth.Authenticator{Store: s}).GuardStream(c, time.Hour)
	t.Cleanup(g.Stop)
	return guardedStream{store: s, user: u, token: token, guard: g}
}

func TestStreamGuardKeepsStreamWhileNothingChanged(t *testing.T) {
	for _, kind := range []string{store.TokenAPI, store.TokenSession} {
		g := openGuardedStream(t, kind)
		if !g.guard.StillEntitled() {
			t.Fatalf("%s: an unchanged user lost their stream", kind)
		}
		// The same comuni in another order, a new name, capacity: nothing they see changes.
		same, name, capacity := []string{"empoli", "firenze"}, "Operatrice", 9
		if err := g.store.UpdateUser(context.Background(), "op", store.UserChange{Comuni: &same, Name: &name, Capacity: &capacity}); err != nil {
			t.Fatal(err)
		}
		if !g.guard.StillEntitled() {
			t.Fatalf("%s: a change that leaves the scope alone ended the stream", kind)
		}
		if g.guard.EndsStream(events.Event{Type: events.UserRevoked, UserID: g.user.ID}) {
			t.Fatalf("%s: a revocation event with nothing changed ended the stream", kind)
		}
	}
}

func TestStreamGuardEndsStreamWhenScopeOrRoleChanges(t *testing.T) {
	firenze, supervisor, other := []string{"firenze"}, store.RoleSupervisor, []string{"anagrafe"}
	for name, change := range map[string]store.UserChange{
		"comuni narrowed":    {Comuni: &firenze},
		"role changed":       {Role: &supervisor},
		"categories changed": {Categories: &other},
	} {
		g := openGuardedStream(t, store.TokenAPI)
		if err := g.store.UpdateUser(context.Background(), "op", change); err != nil {
			t.Fatal(err)
		}
		if g.guard.StillEntitled() {
			t.Fatalf("%s: the stream keeps the scope it opened with", name)
		}
		if !g.guard.EndsStream(events.Event{Type: events.UserRevoked, UserID: g.user.ID}) {
			t.Fatalf("%s: the user's revocation event does not end the stream", name)
		}
	}
}

func TestStreamGuardEndsStreamWhenCredentialsEnd(t *testing.T) {
	for _, kind := range []string{store.TokenAPI, store.TokenSession} {
		g := openGuardedStream(t, kind)
		if err := g.store.RevokeToken(context.Background(), g.token); err != nil {
			t.Fatal(err)
		}
		if g.guard.StillEntitled() {
			t.Fatalf("%s: a revoked credential keeps its stream", kind)
		}
		g = openGuardedStream(t, kind)
		if _, err := g.store.DisableUser(context.Background(), "op"); err != nil {
			t.Fatal(err)
		}
		if g.guard.StillEntitled() {
			t.Fatalf("%s: a disabled user keeps their stream", kind)
		}
	}
}

func TestStreamGuardIgnoresOtherUsersAndEvents(t *testing.T) {
	g := openGuardedStream(t, store.TokenAPI)
	if _, err := g.store.DisableUser(context.Background(), "op"); err != nil {
		t.Fatal(err)
	}
	// Only the user's own revocation asks for a re-check; the periodic one catches the rest.
	for _, e := range []events.Event{
		{Type: events.UserRevoked, UserID: "someone-else"},
		{Type: events.ContactCreated, ContactID: "c1", UserID: g.user.ID},
	} {
		if g.guard.EndsStream(e) {
			t.Fatalf("%+v ended the stream", e)
		}
	}
}
