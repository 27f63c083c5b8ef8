package reportpages_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/gateway"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// wallboardStream is a Firenze supervisor watching /supervisor/wallboard/events.
type wallboardStream struct {
	gateway *gateway.Gateway
	user    store.User
	lines   <-chan string
}

func openWallboardStream(t *testing.T) wallboardStream {
	t.Helper()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
data_dir: %q
http:
  listen: 127.0.0.1:0
smtp:
  listen: ""
comuni:
  - id: firenze
    name: Comune di Firenze
`, t.TempDir())))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g, err := gateway.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	u, err := g.Store.CreateUser(ctx, store.User{Username: "sup", Role: store.RoleSupervisor, PasswordHash: "x", Comuni: []string{"firenze"}})
	if err != nil {
		t.Fatal(err)
	}
	session, err := g.Store.CreateToken(ctx, u.ID, store.TokenSession, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Echo)
	t.Cleanup(srv.Close)
	cctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(cctx, "GET", srv.URL+"/supervisor/wallboard/events", nil)
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: session})
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	w := wallboardStream{gateway: g, user: u, lines: lines}
	if !w.nextBoard(3 * time.Second) {
		t.Fatal("no first board")
	}
	return w
}

// nextBoard reports whether a board arrives within d (false when the stream ended first).
func (w wallboardStream) nextBoard(d time.Duration) bool {
	timeout := time.After(d)
	for {
		select {
		case l, ok := <-w.lines:
			if !ok {
				return false
			}
			if l == "event: board" {
				return true
			}
		case <-timeout:
			return false
		}
	}
}

// waitEnd fails unless the stream ends within d.
func (w wallboardStream) waitEnd(t *testing.T, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case _, ok := <-w.lines:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatalf("the wallboard stream is still open %v later", d)
		}
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
