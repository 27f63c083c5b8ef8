package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/integration/harness"
)

// readmeBlock is one fenced code block of the README and the readme-test marker above it.
type readmeBlock struct {
	lang, code, marker string
	line               int
}

var readmeMarker = regexp.MustCompile(`^<!-- readme-test: (background|skip: .{10,}) -->$`)

// readmeBlocks splits the README into its fenced code blocks.
func readmeBlocks(t *testing.T, text string) []readmeBlock {
	t.Helper()
	var blocks []readmeBlock
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "```") {
			continue
		}
		b := readmeBlock{lang: strings.TrimPrefix(lines[i], "```"), line: i + 1}
		if i > 0 && strings.HasPrefix(lines[i-1], "<!-- readme-test") {
			m := readmeMarker.FindStringSubmatch(lines[i-1])
			if m == nil {
				t.Fatalf("README line %d: a readme-test marker is either \"background\" or \"skip: <why>\", got %q", i, lines[i-1])
			}
			b.marker = m[1]
		}
		var code []string
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			code = append(code, lines[i])
		}
		b.code = strings.Join(code, "\n") + "\n"
		blocks = append(blocks, b)
	}
	return blocks
}

// TestReadmeBlocksRun runs the README's code blocks as written against a fresh demo: the
// background block (go run … serve) in a tree that looks like a fresh clone, then every shell
// block in order, with the demo's default addresses swapped for free ports; YAML blocks must
// pass `sportello config check`. A block it cannot run carries an explicit skip marker with its
// reason, and the only one allowed is the test suite itself. At the end go run gets SIGTERM and
// the server it started must stop too.
func TestReadmeBlocksRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(t, string(readme))

	// A fresh clone: every file of the repository but the local data and binary. Its path is
	// the same on every run, so go's build cache (keyed by directory too) spares a full compile.
	clone := filepath.Join(os.TempDir(), fmt.Sprintf("sportello-readme-%x", sha256.Sum256([]byte(root)))[:8+len("sportello-readme-")])
	if err := os.RemoveAll(clone); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(clone, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(clone) })
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Name() {
		case ".git", "data", "sportello":
			continue
		}
		if err := os.Symlink(filepath.Join(root, e.Name()), filepath.Join(clone, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	addrs := harness.FreePorts(t, 2)
	httpAddr, smtpAddr := addrs[0], addrs[1]
	env := []string{"SPORTELLO_HTTP_LISTEN=" + httpAddr, "SPORTELLO_SMTP_LISTEN=" + smtpAddr, "CGO_ENABLED=0"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPORTELLO_") {
			env = append(env, kv)
		}
	}
	localize := func(code string) string {
		return strings.NewReplacer("127.0.0.1:8080", httpAddr, "127.0.0.1:2525", smtpAddr).Replace(code)
	}

	var skipped []string
	var outputs []string
	var server *exec.Cmd
	var serverLog bytes.Buffer
	ran := 0
	for _, b := range blocks {
		switch {
		case strings.HasPrefix(b.marker, "skip: "):
			skipped = append(skipped, strings.TrimSpace(b.code))
			continue
		case b.lang == "yaml":
			path := filepath.Join(t.TempDir(), "readme.yaml")
			if err := os.WriteFile(path, []byte(b.code), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(harness.Binary(t), "config", "check", "--config", path)
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("README line %d: the YAML block is not a valid config: %v\n%s", b.line, err, out)
			}
			ran++
			continue
		case b.lang != "sh" && b.lang != "bash":
			t.Fatalf("README line %d: a %q block: the test runs sh, bash and yaml blocks; mark it skip with a reason", b.line, b.lang)
		case b.marker == "background":
			if server != nil {
				t.Fatalf("README line %d: a second background block", b.line)
			}
			line := strings.TrimSpace(strings.SplitN(b.code, "#", 2)[0])
			server = exec.Command("bash", "-c", "exec "+localize(line))
			server.Dir, server.Env = clone, env
			log := &serverLog
			server.Stdout, server.Stderr = log, log
			if err := server.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { stopServer(server) })
			waitReady(t, "http://"+httpAddr, server, log)
			ran++
			continue
		}
		if server == nil {
			t.Fatalf("README line %d: a shell block before the server is started", b.line)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", localize(b.code))
		cmd.Dir, cmd.Env = clone, env
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("README block at line %d failed: %v\n%s\n--- output:\n%s", b.line, err, b.code, out)
		}
		outputs = append(outputs, string(out))
		ran++
	}
	if len(skipped) != 1 || !strings.HasPrefix(skipped[0], "./scripts/test.sh") {
		t.Fatalf("skipped README blocks: %q; only the test suite itself may be skipped", skipped)
	}
	if server == nil || ran < 3 {
		t.Fatalf("ran %d blocks, server started: %v", ran, server != nil)
	}

	// The by-hand block ends by showing the contacts it made, as the Firenze operator sees them.
	var last string
	for _, o := range outputs {
		if strings.Contains(o, `"items"`) {
			last = o
		}
	}
	for _, want := range []string{`"channel":"sms"`, `Domani c'è il blocco del traffico?`, `"channel":"phone"`, `"from":"+390557654321"`, `"comune":"firenze"`, `"channel":"email"`, `"subject":"Rimborso TARI"`} {
		if !strings.Contains(last, want) {
			t.Errorf("the README's contacts listing lacks %s:\n%s", want, last)
		}
	}

	// go run does not forward SIGTERM: the server it built must notice and stop anyway.
	if err := server.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", httpAddr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("the server started by go run is still listening 30 s after go run got SIGTERM; its log:\n%s", tail(serverLog.String(), 4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitReady(t *testing.T, base string, cmd *exec.Cmd, log *bytes.Buffer) {
	t.Helper()
	exited := make(chan struct{})
	// An early exit fails below, with the log.
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(5 * time.Minute) // go run compiles first, on a busy machine
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			t.Fatalf("the README's server exited:\n%s", log)
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatalf("the README's server was not ready in time:\n%s", log)
}

func stopServer(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		_ = cmd.Process.Kill()
	}
}

// TestReadmeDemoTable keeps the README's table of the demo's comuni in step with the demo
// config: every comune, its numbers and its addresses, and the shared number.
func TestReadmeDemoTable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	demo, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(readme), "\n") {
		for _, c := range demo.Comuni {
			if strings.HasPrefix(line, "| "+c.Name+" (`"+c.ID+"`)") {
				rows[c.ID] = line
			}
		}
	}
	for _, c := range demo.Comuni {
		row, ok := rows[c.ID]
		if !ok {
			t.Errorf("the README's demo table has no row for %s", c.ID)
			continue
		}
		for _, want := range append(append([]string{}, c.PhoneNumbers...), c.EmailAddresses...) {
			if !strings.Contains(row, want) {
				t.Errorf("the README's row for %s lacks %s: %s", c.ID, want, row)
			}
		}
	}
	for _, n := range demo.SharedNumbers {
		if !strings.Contains(string(readme), "("+n+")") {
			t.Errorf("the README's demo table lacks the shared number %s", n)
		}
	}
}

// tail is the end of s, at most n bytes.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
