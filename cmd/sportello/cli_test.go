package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

func testEnv() (*env, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}, &out, &errOut
}

var flagLine = regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)

// TestHelpAndCLIDoc: every command answers --help with exit 0 and lists its flags, and
// docs/cli.md has a section for each command naming every flag (and no section for a command
// that does not exist).
func TestHelpAndCLIDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]string{}
	parts := regexp.MustCompile("(?m)^## `sportello ([a-z -]+)`\\s*$").Split(string(doc), -1)
	names := regexp.MustCompile("(?m)^## `sportello ([a-z -]+)`\\s*$").FindAllStringSubmatch(string(doc), -1)
	for i, m := range names {
		sections[m[1]] = parts[i+1]
	}
	cmds := commands()
	for name := range cmds {
		e, _, stderr := testEnv()
		if err := dispatch(context.Background(), e, append(strings.Fields(name), "--help")); err != nil {
			t.Errorf("sportello %s --help: %v", name, err)
			continue
		}
		help := stderr.String()
		if !strings.Contains(help, "Usage: sportello "+name) {
			t.Errorf("sportello %s --help does not show its usage:\n%s", name, help)
		}
		section, ok := sections[name]
		if !ok {
			t.Errorf("docs/cli.md has no section \"## `sportello %s`\"", name)
			continue
		}
		for _, f := range flagLine.FindAllStringSubmatch(help, -1) {
			if f[1] != "config" && !strings.Contains(section, "--"+f[1]) {
				t.Errorf("docs/cli.md, sportello %s: flag --%s is not documented", name, f[1])
			}
		}
	}
	for name := range sections {
		if _, ok := cmds[name]; !ok {
			t.Errorf("docs/cli.md documents sportello %s, which does not exist", name)
		}
	}
}

// TestGroupHelp: `sportello user --help` lists the group's commands and exits 0; the group alone
// is an error that still shows them; `sportello --help` and `sportello help user add` work.
func TestGroupHelp(t *testing.T) {
	groups := map[string][]string{}
	for name := range commands() {
		if g, _, ok := strings.Cut(name, " "); ok {
			groups[g] = append(groups[g], name)
		}
	}
	if len(groups["user"]) == 0 || len(groups["config"]) < 2 {
		t.Fatalf("groups: %v", groups)
	}
	for g, members := range groups {
		e, _, stderr := testEnv()
		if err := dispatch(context.Background(), e, []string{g, "--help"}); err != nil {
			t.Errorf("sportello %s --help: %v", g, err)
		}
		for _, m := range members {
			if !strings.Contains(stderr.String(), "sportello "+m) {
				t.Errorf("sportello %s --help does not list %q:\n%s", g, m, stderr)
			}
		}
		e, _, stderr = testEnv()
		if err := dispatch(context.Background(), e, []string{g}); err == nil || !strings.Contains(stderr.String(), "sportello "+members[0]) {
			t.Errorf("sportello %s: err %v, output %q", g, err, stderr)
		}
	}
	e, _, stderr := testEnv()
	if err := dispatch(context.Background(), e, []string{"--help"}); err != nil || !strings.Contains(stderr.String(), "sportello config check") {
		t.Errorf("sportello --help: %v\n%s", err, stderr)
	}
	e, _, stderr = testEnv()
	if err := dispatch(context.Background(), e, []string{"help", "user", "add"}); err != nil || !strings.Contains(stderr.String(), "-username") {
		t.Errorf("sportello help user add: %v\n%s", err, stderr)
	}
	e, _, _ = testEnv()
	if err := dispatch(context.Background(), e, []string{"frobnicate"}); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("an unknown command: %v", err)
	}
}

func TestVersionLine(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/sportello/sportello", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-11-30T04:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := versionLine(bi, true, "ignored")
	want := "sportello v1.2.3 (commit 0123abcd, modified, 2026-11-30T04:00:00Z) go1.26.8"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	bi.Main.Version, bi.Settings = "", nil
	if got := versionLine(bi, true, ""); !strings.HasPrefix(got, "sportello (devel) (commit unknown: build with -ldflags") {
		t.Fatalf("a build without VCS information: %q", got)
	}
	if got := versionLine(bi, true, "fedcba98"); got != "sportello (devel) (commit fedcba98) go1.26.8" {
		t.Fatalf("a build with the commit given at link time: %q", got)
	}
}

func TestConfigCheckNamesTheKey(t *testing.T) {
	path := t.TempDir() + "/sportello.yaml"
	if err := os.WriteFile(path, []byte("comuni: [{id: a, name: A}]\nhtpp:\n  listen: 127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, _, _ := testEnv()
	err := dispatch(context.Background(), e, []string{"config", "check", "--config", path})
	if err == nil || !strings.Contains(err.Error(), `unknown key "htpp" (line 2); did you mean "http"?`) {
		t.Fatalf("config check of a misspelt key: %v", err)
	}
	e, out, _ := testEnv()
	if err := dispatch(context.Background(), e, []string{"config", "check"}); err != nil || !strings.Contains(out.String(), "valid") {
		t.Fatalf("config check of the demo: %v %q", err, out)
	}
}

func TestServeStopsWithGoRun(t *testing.T) {
	cached := "/root/.cache/go-build/e3/e3ac514d5192790a7cdbc1897f1b600e41d6c993dd5118aae1107f0f4a980152-d/sportello"
	if builtByGoRun("/usr/local/bin/sportello") || !builtByGoRun("/tmp/go-build123/b001/exe/sportello") || !builtByGoRun(cached) ||
		builtByGoRun("/opt/e3/sportello-d/sportello") {
		t.Fatal("go run's binaries (fresh, or from the build cache since Go 1.24) are not told apart")
	}
	ppid := 100
	var mu sync.Mutex
	getppid := func() int { mu.Lock(); defer mu.Unlock(); return ppid }
	ctx := stopWithGoRun(context.Background(), "/tmp/go-build123/b001/exe/sportello", getppid, time.Millisecond)
	select {
	case <-ctx.Done():
		t.Fatal("stopped while go run still runs")
	case <-time.After(20 * time.Millisecond):
	}
	mu.Lock()
	ppid = 1 // go run exited: the server was handed to init
	mu.Unlock()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("serve kept running after go run exited")
	}
	if ctx := stopWithGoRun(context.Background(), "/usr/local/bin/sportello", getppid, time.Millisecond); ctx != context.Background() {
		t.Fatal("an installed binary must not watch its parent")
	}
}
