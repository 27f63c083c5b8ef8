package alertpages_test

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
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/web/alertpages"
	"github.com/sportello/sportello/web/auth"
)

// A supervisor following a scheduled alert's progress (a stream that would stay open until it
// is sent, an hour later) is disabled: the revocation ends the stream at once.
func TestAlertProgressStreamEndsWhenSupervisorDisabled(t *testing.T) {
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
	a, err := alertstore.New(g.Store).CreateAlert(ctx, alertstore.Alert{Comune: "firenze", Category: "meteo",
		Message: "Allerta arancione", TextIT: "Allerta arancione", SendAt: time.Now().Add(time.Hour)}, alertstore.CreateAlertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Echo)
	defer srv.Close()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(cctx, "GET", srv.URL+alertpages.Prefix+"/"+a.ID+"/events", nil)
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
	waitLine := func(want string) {
		t.Helper()
		timeout := time.After(3 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the stream ended waiting for %q", want)
				}
				if l == want {
					return
				}
			case <-timeout:
				t.Fatalf("no %q line", want)
			}
		}
	}
	waitLine("event: progress")

	if _, err := g.Store.DisableUser(ctx, "sup"); err != nil {
		t.Fatal(err)
	}
	if err := g.Hub.Publish(ctx, events.Event{Type: events.UserRevoked, UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(auth.DefaultRecheck / 2)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return
			}
			if l == "event: done" {
				t.Fatal("the stream told the page the alert ended; it should just end, so the page reconnects and is refused")
			}
		case <-timeout:
			t.Fatalf("a disabled supervisor's alert progress stream is still open %v later", auth.DefaultRecheck/2)
		}
	}
}
