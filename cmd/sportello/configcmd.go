package main

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/sportello/sportello/config"
)

func runConfigCheck(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags("config check", e)
	if err := fs.Parse(args); err != nil {
		return err
	}
	path := config.Resolve(*cfgPath)
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if path == "" {
		path = "the built-in demo"
	}
	for _, w := range cfg.Warnings() {
		if _, err := fmt.Fprintf(e.stderr, "warning: %s\n", w); err != nil {
			return err
		}
	}
	return printed(fmt.Fprintf(e.stdout, "%s: valid (%d comuni, database %s)\n", path, len(cfg.Comuni), databaseKind(cfg)))
}

func databaseKind(cfg *config.Config) string {
	if cfg.DatabaseURL == "" {
		return "SQLite in " + cfg.DataDir
	}
	return "PostgreSQL"
}

func runConfigPrint(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags("config print", e)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	out, err := config.Print(cfg)
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(out)
	return err
}

func runVersion(ctx context.Context, e *env, args []string) error {
	fs, _ := newFlags("version", e)
	if err := fs.Parse(args); err != nil {
		return err
	}
	bi, ok := debug.ReadBuildInfo()
	return printed(fmt.Fprintln(e.stdout, versionLine(bi, ok, commit)))
}

// commit is the VCS commit given at link time (go build -ldflags "-X main.commit=$(git
// rev-parse HEAD)", as the Dockerfile does): it names the commit when Go stamped none (go run,
// -buildvcs=false, a git worktree, a build context without .git).
var commit string

// versionLine is "sportello VERSION (commit C[, modified], built TIME, GO)" from the build info
// the Go toolchain embeds: the module version for `go install …@vX`, the VCS commit for a build
// in a checkout, else the commit given at link time (linked).
func versionLine(bi *debug.BuildInfo, ok bool, linked string) string {
	if !ok || bi == nil {
		return "sportello (no build information)"
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var revision, when, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	line := "sportello " + version
	switch {
	case revision != "":
		line += fmt.Sprintf(" (commit %s%s, %s)", revision, modified, when)
	case linked != "":
		line += fmt.Sprintf(" (commit %s)", linked)
	default:
		line += " (commit unknown: build with -ldflags \"-X main.commit=$(git rev-parse HEAD)\")"
	}
	return line + " " + bi.GoVersion
}
