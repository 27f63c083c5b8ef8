package inbox_test

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

// An operator of Firenze and Empoli has the inbox open; an admin narrows them to Firenze and
// announces it: the live stream ends at once, and the browser reconnects with Firenze only.
func TestInboxEventStreamEndsWhenComuniNarrowed(t *testing.T) {
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
data_dir: %q
http:
  listen: 127.0.0.1:0
smtp:
  listen: ""
comuni:
  - id: firenze
    name: Comune di Firenze
  - id: empoli
    name: Comune di Empoli
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
	u, err := g.Store.CreateUser(ctx, store.User{Username: "op", Role: store.RoleOperator, PasswordHash: "x", Comuni: []string{"firenze", "empoli"}})
	if err != nil {
		t.Fatal(err)
	}
	session, err := g.Store.CreateToken(ctx, u.ID, store.TokenSession, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Echo)
	defer srv.Close()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(cctx, "GET", srv.URL+"/inbox/events", nil)
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: session})
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
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

	narrowed := []string{"firenze"}
	if err := g.Store.UpdateUser(ctx, "op", store.UserChange{Comuni: &narrowed}); err != nil {
		t.Fatal(err)
	}
	if err := g.Hub.Publish(ctx, events.Event{Type: events.UserRevoked, UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(auth.DefaultRecheck / 2)
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatalf("the inbox stream keeps the comuni it opened with %v after they were narrowed", auth.DefaultRecheck/2)
		}
	}
}
