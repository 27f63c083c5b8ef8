package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// runProbe checks /readyz of a running gateway: the container's HEALTHCHECK, which has no curl.
func runProbe(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags("probe", e)
	target := fs.String("url", "", "the URL to check (default: http://<http.listen>/readyz)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *target == "" {
		cfg, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		*target = "http://" + cfg.HTTP.Listen + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *target, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", *target, resp.Status)
	}
	return printed(fmt.Fprintln(e.stdout, "ready"))
}
