package main

import (
	"context"
	"fmt"

	"github.com/sportello/sportello/store"
)

// runRetentionRun applies the config's retention periods now (the server applies them daily).
func runRetentionRun(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags("retention run", e)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if !cfg.Retention.Enabled() {
		return printed(fmt.Fprintln(e.stdout, "retention: every period is 0 (keep): nothing to do"))
	}
	s, closeFn, err := openStore(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer closeFn()
	r := cfg.Retention
	c, err := s.ApplyRetention(ctx, store.Retention{Contacts: r.Contacts, Attachments: r.Attachments, Recordings: r.Recordings, Audit: r.Audit})
	if err != nil {
		return err
	}
	return printed(fmt.Fprintf(e.stdout, "retention: erased %s; database files scrubbed: %v\n", c, c.FilesScrubbed))
}
