// Package webtest serves the web surfaces' tests: it starts the real gateway and reads the
// lines of a live stream (Server-Sent Events). Tests only; nothing in the binary imports it.
package webtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/gateway"
	"github.com/sportello/sportello/web/auth"
)

// Gateway starts the real gateway on a new data folder, without an SMTP listener, for the
// comuni given by id (each named "Comune di" and its id); it closes when the test ends.
func Gateway(t testing.TB, comuni ...string) *gateway.Gateway {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %q\nhttp:\n  listen: 127.0.0.1:0\nsmtp:\n  listen: \"\"\ncomuni:\n", t.TempDir())
	for _, c := range comuni {
		fmt.Fprintf(&b, "  - id: %s\n    name: Comune di %s\n", c, strings.ToUpper(c[:1])+c[1:])
	}
	cfg, err := config.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g
}

// Session signs a request in with a session token, as the inbox's browser does.
func Session(token string) func(*http.Request) {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: token}) }
}

// Bearer signs a request in with an API token.
func Bearer(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// Stream opens the stream at path on h, signed in by signIn, fails the test unless it answers
// 200, and returns its lines; the channel closes when the stream ends. The stream is closed
// when the test ends.
func Stream(t testing.TB, h http.Handler, path string, signIn func(*http.Request)) <-chan string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	signIn(req)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d", path, resp.StatusCode)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return lines
}

// WaitLine waits up to d for a line starting with prefix and returns it; it fails the test
// when the stream ends or d passes first.
func WaitLine(t testing.TB, lines <-chan string, prefix string, d time.Duration) string {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the stream ended waiting for %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no %q line within %v", prefix, d)
		}
	}
}

// Ended reports whether the stream ends within d, calling seen with each line it still sends.
func Ended(lines <-chan string, d time.Duration, seen func(line string)) bool {
	timeout := time.After(d)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return true
			}
			if seen != nil {
				seen(l)
			}
		case <-timeout:
			return false
		}
	}
}
