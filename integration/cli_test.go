package integration

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
)

// runSportello runs the real binary in dir with only the given SPORTELLO_ variables.
func runSportello(t *testing.T, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(harness.Binary(t), args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPORTELLO_") && !strings.HasPrefix(kv, "TWILIO_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestCLIFirstHour runs what a newcomer types: --help of a group, version, config print and
// check, and serve on other ports by flag.
func TestCLIFirstHour(t *testing.T) {
	dir := t.TempDir()
	out, err := runSportello(t, dir, nil, "user", "--help")
	if err != nil || !strings.Contains(out, "sportello user add") {
		t.Fatalf("sportello user --help: %v\n%s", err, out)
	}
	out, err = runSportello(t, dir, nil, "token", "create", "--help")
	if err != nil || !strings.Contains(out, "-username") {
		t.Fatalf("sportello token create --help: %v\n%s", err, out)
	}
	out, err = runSportello(t, dir, nil, "version")
	if err != nil || !strings.HasPrefix(out, "sportello ") || !strings.Contains(out, "go1.") {
		t.Fatalf("sportello version: %v\n%s", err, out)
	}
	if rev, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil && !strings.Contains(out, "commit "+strings.TrimSpace(string(rev))) {
		t.Fatalf("sportello version does not name the commit %s: %s", rev, out)
	}

	// config print of the demo, with a secret from the environment, reads back with config check.
	out, err = runSportello(t, dir, []string{"TWILIO_AUTH_TOKEN=supersecrettoken42"}, "config", "print")
	if err != nil || strings.Contains(out, "supersecrettoken42") || !strings.Contains(out, "auth_token: '********'") {
		t.Fatalf("sportello config print: %v\n%s", err, out)
	}
	printed := filepath.Join(dir, "printed.yaml")
	if err := os.WriteFile(printed, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runSportello(t, dir, nil, "config", "check", "--config", printed); err != nil || !strings.Contains(out, "valid") {
		t.Fatalf("config check of config print's output: %v\n%s", err, out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("comuni: [{id: a, name: A}]\nhttp:\n  listen: [a]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = runSportello(t, dir, nil, "config", "check", "--config", bad)
	if err == nil || !strings.Contains(out, "http.listen: expected text, got a list (line 3)") {
		t.Fatalf("config check of a broken file: %v\n%s", err, out)
	}

	// serve --http --smtp moves the demo; the environment does the same for the other commands.
	addrs := harness.FreePorts(t, 2)
	httpAddr, smtpAddr := addrs[0], addrs[1]
	server := exec.Command(harness.Binary(t), "serve", "--http", httpAddr, "--smtp", smtpAddr)
	server.Dir = dir
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Process.Kill(); _ = server.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err = runSportello(t, dir, []string{"SPORTELLO_HTTP_LISTEN=" + httpAddr}, "probe")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve --http %s is not ready: %v %s", httpAddr, err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	c, err := net.DialTimeout("tcp", smtpAddr, 5*time.Second)
	if err != nil {
		t.Fatalf("serve --smtp %s: %v", smtpAddr, err)
	}
	c.Close()
	out, err = runSportello(t, dir, []string{"SPORTELLO_HTTP_LISTEN=" + httpAddr}, "send-test", "sms", "--to", "055 2768000", "--body", "prova")
	if err != nil || !strings.Contains(out, "200") {
		t.Fatalf("send-test against serve --http (public_url follows the address): %v\n%s", err, out)
	}
}
