package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/gateway"
)

func loadConfig(path string) (*config.Config, error) {
	return config.Load(config.Resolve(path))
}

func newLogger(cfg *config.Config, e *env) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Log.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags("serve", e)
	httpAddr := fs.String("http", "", "listen for HTTP on this host:port (overrides http.listen and $SPORTELLO_HTTP_LISTEN)")
	smtpAddr := fs.String("smtp", "", "listen for SMTP on this host:port (overrides smtp.listen and $SPORTELLO_SMTP_LISTEN)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.LoadWith(config.Resolve(*cfgPath), config.Overrides{Getenv: e.getenv, HTTPListen: *httpAddr, SMTPListen: *smtpAddr})
	if err != nil {
		return err
	}
	log := newLogger(cfg, e)
	if cfg.Demo {
		log.Info("no config file found: running the built-in demo configuration (four comuni, SQLite in ./data)")
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = stopWithGoRun(ctx, executablePath(), os.Getppid, time.Second)
	tuneGC(e.getenv)
	if addr := e.getenv("SPORTELLO_PPROF"); addr != "" {
		// Opt-in profiling on a separate listener (keep it on loopback).
		go func() {
			srv := &http.Server{Addr: addr, Handler: pprofMux(), ReadHeaderTimeout: 5 * time.Second}
			log.Warn("pprof listening", "addr", addr, "err", srv.ListenAndServe())
		}()
	}
	g, err := gateway.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := g.Close(); err != nil {
			log.Warn("closing the gateway", "err", err)
		}
	}()
	if pw, err := g.EnsureAdmin(ctx); err != nil {
		return err
	} else if pw != "" {
		if _, err := fmt.Fprintf(e.stdout, "Created the first user %q with password: %s\nIt is shown only once: log in at %s/login and keep it safe.\n",
			"admin", pw, strings.TrimRight(cfg.PublicURL, "/")); err != nil {
			return fmt.Errorf("showing the first user's password: %w", err)
		}
	}
	return g.Run(ctx, nil)
}

func runMigrate(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags("migrate", e)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if err := gateway.Migrate(ctx, cfg); err != nil {
		return err
	}
	return printed(fmt.Fprintln(e.stdout, "migrated"))
}

func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
