package integration

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"gopkg.in/yaml.v3"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store/storetest"
)

// TestDockerignoreKeepsDataOut reads .dockerignore with Docker's own matcher
// (moby/patternmatcher): the demo's SQLite file with citizens' messages and a built binary never
// reach the build context; the sources do.
func TestDockerignoreKeepsDataOut(t *testing.T) {
	f, err := os.Open("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	for path, excluded := range map[string]bool{
		"data/sportello.db": true, "data/sportello.db-wal": true, "data": true, "sportello": true, "sportello.yaml": true,
		".git/config": true, "integration/integration.test": true, "integration/testoutput/x.png": true,
		"go.mod": false, "go.sum": false, "cmd/sportello/main.go": false, "templates/html/layout.html": false,
		"store/migrations/0001_init.sql": false, "config/testdata/fuzz/FuzzParse/x": false,
	} {
		got, err := pm.MatchesOrParentMatches(path)
		if err != nil {
			t.Fatal(err)
		}
		if got != excluded {
			t.Errorf(".dockerignore: %s excluded=%v, want %v", path, got, excluded)
		}
	}
}

// TestComposeRequiresTheTwilioToken: an empty token would refuse every webhook, so compose must
// refuse to start without it.
func TestComposeRequiresTheTwilioToken(t *testing.T) {
	b, err := os.ReadFile("../deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	tok := compose.Services["sportello"].Environment["TWILIO_AUTH_TOKEN"]
	if !regexp.MustCompile(`^\$\{TWILIO_AUTH_TOKEN:\?.+\}$`).MatchString(tok) {
		t.Fatalf("TWILIO_AUTH_TOKEN is %q: it must be required (${TWILIO_AUTH_TOKEN:?message})", tok)
	}
}

// TestNginxHidesMetrics runs the real nginx with deploy/nginx.conf in front of a real gateway:
// pages and webhooks pass, /metrics does not.
func TestNginxHidesMetrics(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	storetest.RequirePeer(t, "nginx (apt-get install nginx-light)", err)
	gw := harness.Start(t, harness.Options{})
	conf, err := os.ReadFile("../deploy/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	front := harness.FreePort(t)
	text := string(conf)
	// Only the addresses change: the upstream is the test gateway, nginx listens on a free port;
	// the SMTP stream proxy needs a module nginx-light lacks, and is not what this test is about.
	text = strings.Replace(text, "server sportello:8080;", "server "+strings.TrimPrefix(gw.URL, "http://")+";", 1)
	text = strings.Replace(text, "listen 8080;", "listen "+front+";", 1)
	if i := strings.Index(text, "\nstream {"); i >= 0 {
		text = text[:i]
	}
	dir := t.TempDir()
	text = fmt.Sprintf("pid %s/nginx.pid;\nerror_log %s/error.log;\n", dir, dir) + text
	text = strings.Replace(text, "http {", fmt.Sprintf("http {\n  access_log off;\n  client_body_temp_path %[1]s/body;\n  proxy_temp_path %[1]s/proxy;\n  fastcgi_temp_path %[1]s/fcgi;\n  uwsgi_temp_path %[1]s/uwsgi;\n  scgi_temp_path %[1]s/scgi;", dir), 1)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// One process (master_process off): killing it leaves no workers behind.
	cmd := exec.Command(bin, "-p", dir, "-c", path, "-g", "daemon off; master_process off;")
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	get := func(p string) (int, string) {
		resp, err := http.Get("http://" + front + p)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st, _ := get("/healthz"); st == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx does not pass /healthz: %s %s", out, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st, body := get("/metrics"); st != http.StatusNotFound || strings.Contains(body, "go_goroutines") {
		t.Fatalf("/metrics through nginx: %d", st)
	}
	if st, body := get("/metrics?format=text"); st != http.StatusNotFound || strings.Contains(body, "go_goroutines") {
		t.Fatalf("/metrics?… through nginx: %d", st)
	}
	if st, body := get("/login"); st != http.StatusOK || !strings.Contains(body, "<form") {
		t.Fatalf("/login through nginx: %d", st)
	}
	// The gateway itself still serves /metrics to the scraper that reaches it directly.
	resp, err := http.Get(gw.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics on the gateway: %d", resp.StatusCode)
	}
}
