package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/reports"
	"github.com/sportello/sportello/router"
	"github.com/sportello/sportello/store"
)

// runReport prints the summary of contract section 7 from the configured database.
func runReport(ctx context.Context, e *env, args []string) (err error) {
	fs, cfgPath := newFlags("report", e)
	from := fs.String("from", "", "first day, YYYY-MM-DD (default: the first of this month)")
	to := fs.String("to", "", "last day, inclusive (default: the last of this month)")
	comune := fs.String("comune", "", "one comune's figures")
	format := fs.String("format", "text", "text, json or csv (one row per contact)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" && *format != "csv" {
		return fmt.Errorf("--format must be text, json or csv, got %q", *format)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	s, err := store.Open(ctx, store.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}()
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	// The days the desks were closed follow the calendars admins edit, as the gateway's do.
	hours, err := router.NewHours(cfg)
	if err != nil {
		return err
	}
	hours.SetSource(desk.StoredCalendars(s), 0, nil)
	svc, err := reports.New(reports.Options{Store: s, Config: cfg, Calendar: hours})
	if err != nil {
		return err
	}
	q, err := svc.NewQuery(*from, *to, *comune, nil)
	if errors.Is(err, reports.ErrOutOfScope) {
		return fmt.Errorf("--comune %q is not a configured comune", *comune)
	}
	if err != nil {
		return err
	}
	if *format == "csv" {
		return svc.WriteCSV(ctx, q, e.stdout)
	}
	sum, err := svc.Summary(ctx, q)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	return reports.WriteText(e.stdout, sum)
}
