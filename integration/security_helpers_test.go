package integration

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// webClient is a browser's cookie jar that does not follow redirects, dialling from source
// (a loopback address such as 127.0.0.2, so the gateway sees another client; "" = default).
func webClient(t testing.TB, source string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	if source != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(source)}
	}
	return &http.Client{Jar: jar, Timeout: 60 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// loginForm loads /login and returns the CSRF token of its form.
func loginForm(t testing.TB, c *http.Client, base string) string {
	t.Helper()
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field on /login (%d): %.300s", resp.StatusCode, body)
	}
	return m[1]
}

// postLogin submits the login form and returns the status and Location.
func postLogin(c *http.Client, base, csrf, username, password, next string) (int, string, error) {
	form := url.Values{"csrf": {csrf}, "username": {username}, "password": {password}}
	if next != "" {
		form.Set("next", next)
	}
	resp, err := c.PostForm(base+"/login", form)
	if err != nil {
		return 0, "", err
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location"), nil
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

// peakRSSMiB is a process's peak resident memory (VmHWM) in MiB.
func peakRSSMiB(t testing.TB, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb / 1024
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// cliUser adds a user through the binary (password on stdin).
func cliUser(t testing.TB, cfgPath, username, password, role string, extra ...string) {
	t.Helper()
	args := append([]string{"user", "add", "--config", cfgPath, "--username", username, "--role", role}, extra...)
	cmd := exec.Command(harness.Binary(t), args...)
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user add %s: %v %s", username, err, out)
	}
}

// cli runs a sportello command and returns its last stdout line.
func cli(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, harness.Binary(t), args...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("sportello %v: %v %s", args, err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// storeUser adds a user with a password straight into a harness gateway's store.
func storeUser(t testing.TB, g *harness.Gateway, username, password, role string, comuni ...string) store.User {
	t.Helper()
	hash, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	u, err := g.G.Store.CreateUser(context.Background(), store.User{Username: username, Role: role, PasswordHash: hash, Comuni: comuni})
	if err != nil {
		t.Fatal(err)
	}
	return u
}
