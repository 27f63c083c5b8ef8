package integration

import (
	"bufio"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

// stream opens a Server-Sent Events stream and returns a channel closed when the server ends
// it. It waits for the stream's first comment, so the stream is live when it returns.
func stream(t *testing.T, c *http.Client, url, token string) <-chan struct{} {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	lines := make(chan string, 64)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	waitLine(t, lines, ": connected", 10*time.Second)
	t.Cleanup(func() { resp.Body.Close() })
	return ended
}

// endsWithin fails unless the stream ends within d, and returns how long it took.
func endsWithin(t *testing.T, what string, ended <-chan struct{}, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	select {
	case <-ended:
		took := time.Since(start)
		t.Logf("%s ended %v after the command", what, took.Round(time.Millisecond))
		return took
	case <-time.After(d):
		t.Fatalf("%s still open %v after the command", what, d)
		return 0
	}
}

// TestRevokeAndDisableEndStreams runs the real binary on SQLite: an operator's API event stream
// and inbox stream stay open while `sportello token revoke` and `sportello user disable` run
// from another process. Each must end within seconds, the token and session stop working, and
// a disabled user cannot log in. A token with auth.token_ttl ends on its own.
func TestRevokeAndDisableEndStreams(t *testing.T) {
	waitsOnTheClock(t)
	dir := t.TempDir()
	addr := harness.FreePort(t)
	yaml := harness.ConfigYAML(harness.Options{Extra: "auth: {token_ttl: 4s}\n"}, filepath.Join(dir, "data"), "")
	cfgPath := harness.WriteConfig(t, dir, yaml, addr)
	const password = "una-password-lunga"
	cliUser(t, cfgPath, "anna", password, "operator", "--comune", "firenze")
	p := harness.StartProcess(t, cfgPath, addr)
	// The slowest path: no NOTIFY between processes on SQLite, so the re-check (5 s) ends them.
	const within = 8 * time.Second

	openBoth := func() (apiToken string, api, inbox <-chan struct{}, web *http.Client) {
		apiToken = cli(t, "token", "create", "--config", cfgPath, "--username", "anna", "--ttl", "0")
		web = webClient(t, "")
		if code, _, err := postLogin(web, p.URL, loginForm(t, web, p.URL), "anna", password, ""); err != nil || code != http.StatusSeeOther {
			t.Fatalf("login: %d %v", code, err)
		}
		return apiToken, stream(t, harness.Client, p.URL+"/api/v1/events", apiToken), stream(t, web, p.URL+"/inbox/events", ""), web
	}

	t.Run("token revoke", func(t *testing.T) {
		tok, api, inbox, web := openBoth()
		cli(t, "token", "revoke", "--config", cfgPath, "--username", "anna")
		endsWithin(t, "the API event stream", api, within)
		endsWithin(t, "the inbox stream", inbox, within)
		if code := harness.API(t, "GET", p.URL+"/api/v1/me", tok, nil, nil); code != http.StatusUnauthorized {
			t.Fatalf("a revoked token: %d", code)
		}
		resp, err := web.Get(p.URL + "/inbox")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Fatalf("the revoked session still opens the inbox: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("user disable", func(t *testing.T) {
		tok, api, inbox, _ := openBoth()
		cli(t, "user", "disable", "--config", cfgPath, "--username", "anna")
		endsWithin(t, "the API event stream", api, within)
		endsWithin(t, "the inbox stream", inbox, within)
		if code := harness.API(t, "GET", p.URL+"/api/v1/me", tok, nil, nil); code != http.StatusUnauthorized {
			t.Fatalf("a disabled user's token: %d", code)
		}
		web := webClient(t, "")
		if code, _, err := postLogin(web, p.URL, loginForm(t, web, p.URL), "anna", password, ""); err != nil || code != http.StatusUnauthorized {
			t.Fatalf("a disabled user's login: %d %v", code, err)
		}
		// A token made while disabled does not work either.
		tok = cli(t, "token", "create", "--config", cfgPath, "--username", "anna")
		if code := harness.API(t, "GET", p.URL+"/api/v1/me", tok, nil, nil); code != http.StatusUnauthorized {
			t.Fatalf("a token made for a disabled user: %d", code)
		}
		cli(t, "user", "enable", "--config", cfgPath, "--username", "anna")
	})

	t.Run("token ttl", func(t *testing.T) {
		tok := cli(t, "token", "create", "--config", cfgPath, "--username", "anna")
		created := time.Now()
		if code := harness.API(t, "GET", p.URL+"/api/v1/me", tok, nil, nil); code != http.StatusOK {
			t.Fatalf("a fresh token with a ttl: %d", code)
		}
		api := stream(t, harness.Client, p.URL+"/api/v1/events", tok)
		select {
		case <-api:
			t.Logf("the stream of a token with a 4 s ttl ended %v after its creation", time.Since(created).Round(time.Millisecond))
		case <-time.After(4*time.Second + within):
			t.Fatal("the stream outlived its token")
		}
		if time.Since(created) < 4*time.Second {
			t.Fatalf("the stream ended before the token expired")
		}
		if code := harness.API(t, "GET", p.URL+"/api/v1/me", tok, nil, nil); code != http.StatusUnauthorized {
			t.Fatalf("an expired token: %d", code)
		}
	})
}

// TestRevokeEndsStreamsOnEveryReplica runs two replicas on one PostgreSQL database with an
// operator's event stream open on each; `sportello token revoke` from a third process ends both
// at once through NOTIFY, well before the periodic re-check.
func TestRevokeEndsStreamsOnEveryReplica(t *testing.T) {
	a := harness.Start(t, harness.Options{Dialect: store.Postgres})
	b := harness.Start(t, harness.Options{Dialect: store.Postgres, DatabaseURL: a.DatabaseURL})
	tok := a.User(t, "anna", "operator", "firenze")
	dir := t.TempDir()
	cfgPath := harness.WriteConfig(t, dir, harness.ConfigYAML(harness.Options{}, filepath.Join(dir, "data"), a.DatabaseURL), harness.FreePort(t))
	onA := stream(t, harness.Client, a.URL+"/api/v1/events", tok)
	onB := stream(t, harness.Client, b.URL+"/api/v1/events", tok)
	cli(t, "token", "revoke", "--config", cfgPath, "--username", "anna")
	// NOTIFY makes it well under the 5 s re-check; allow for a loaded machine.
	endsWithin(t, "the stream on replica A", onA, 4*time.Second)
	endsWithin(t, "the stream on replica B", onB, 4*time.Second)
	for _, g := range []*harness.Gateway{a, b} {
		if code := harness.API(t, "GET", g.URL+"/api/v1/me", tok, nil, nil); code != http.StatusUnauthorized {
			t.Fatalf("the revoked token on %s: %d", g.URL, code)
		}
	}
}
