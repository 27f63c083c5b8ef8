package main

import (
	"context"
	"fmt"

	"github.com/sportello/sportello/store"
)

// runRetentionRun applies the config's retention periods now (the server applies them daily).
func runRetentionRun(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags("retention run", e)
	full := fs.Bool("vacuum-full", false, "PostgreSQL: afterwards rewrite the tables erasures touch (VACUUM FULL), so erased rows' bytes leave the files; locks each table while it runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if !cfg.Retention.Enabled() && !*full {
		return printed(fmt.Fprintln(e.stdout, "retention: every period is 0 (keep): nothing to do"))
	}
	s, closeFn, err := openStore(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer closeFn()
	if r := cfg.Retention; r.Enabled() {
		c, err := s.ApplyRetention(ctx, store.Retention{Contacts: r.Contacts, Attachments: r.Attachments, Recordings: r.Recordings, Audit: r.Audit})
		if err != nil {
			return err
		}
		if err := printed(fmt.Fprintf(e.stdout, "retention: erased %s; database files scrubbed: %v\n", c, c.FilesScrubbed)); err != nil {
			return err
		}
	}
	if !*full {
		return nil
	}
	if err := s.RewriteFiles(ctx); err != nil {
		return err
	}
	return printed(fmt.Fprintln(e.stdout, "tables rewritten (VACUUM FULL on PostgreSQL; nothing to do on SQLite)"))
}
