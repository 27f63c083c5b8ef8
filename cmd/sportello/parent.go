package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// stopWithGoRun ends ctx when the `go run` that started this process exits. go run does not
// forward SIGTERM to the program it built, so without this a `go run ./cmd/sportello serve`
// stopped by a script or an IDE leaves the server running, holding its ports. Only a binary that
// go run built (it lives under a go-build temporary directory) watches its parent: a server
// started from a shell with nohup must survive the shell.
func stopWithGoRun(ctx context.Context, executable string, getppid func() int, every time.Duration) context.Context {
	if !builtByGoRun(executable) {
		return ctx
	}
	ctx, cancel := context.WithCancel(ctx)
	parent := getppid()
	go func() {
		defer cancel()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if getppid() != parent {
					return
				}
			}
		}
	}()
	return ctx
}

// builtByGoRun tells a binary go run made: freshly built, it runs from a temporary
// .../go-build<N>/b001/exe/; since Go 1.24 a go run that hits the build cache runs it from the
// cache itself, <GOCACHE>/<2 hex>/<64 hex>-d/ (GOCACHE may be named anything).
func builtByGoRun(executable string) bool {
	dir := filepath.ToSlash(filepath.Dir(executable))
	if strings.Contains(dir, "/go-build") && strings.HasSuffix(dir, "/exe") {
		return true
	}
	return cachedRunDir.MatchString(dir)
}

var cachedRunDir = regexp.MustCompile(`/[0-9a-f]{2}/[0-9a-f]{64}-d$`)

func executablePath() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	return p
}
