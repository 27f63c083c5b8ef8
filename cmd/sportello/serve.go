package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

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
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(cfg, e)
	if cfg.Demo {
		log.Info("no config file found: running the built-in demo configuration (four comuni, SQLite in ./data)")
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	g, err := gateway.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer g.Close()
	if pw, err := g.EnsureAdmin(ctx); err != nil {
		return err
	} else if pw != "" {
		fmt.Fprintf(e.stdout, "Created the first user %q with password: %s\nIt is shown only once: log in at %s/login and keep it safe.\n",
			"admin", pw, strings.TrimRight(cfg.PublicURL, "/"))
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
	fmt.Fprintln(e.stdout, "migrated")
	return nil
}
