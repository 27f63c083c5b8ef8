package main

import (
	"context"
	"os"
	"path/filepath"
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

func builtByGoRun(executable string) bool {
	dir := filepath.ToSlash(filepath.Dir(executable))
	return strings.Contains(dir, "/go-build") && strings.HasSuffix(dir, "/exe")
}

func executablePath() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	return p
}
