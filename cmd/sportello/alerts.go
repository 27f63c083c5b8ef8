package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sportello/sportello/alerts"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// The notification API's commands.

func runAPIKeyCreate(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags("apikey create", e)
	comune := fs.String("comune", "", "the comune the key acts for")
	name := fs.String("name", "", "what the key is for (who holds it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *comune == "" {
		return errors.New("--comune is required")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if _, ok := cfg.ComuneByID(*comune); !ok {
		return fmt.Errorf("--comune: unknown comune %q", *comune)
	}
	s, closeFn, err := openStore(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer closeFn()
	k, key, err := alertstore.New(s).CreateAPIKey(ctx, *comune, *name)
	if err != nil {
		return err
	}
	return printed(fmt.Fprintf(e.stdout, "created API key %s for comune %s; it is shown only once:\n%s\n", k.ID, k.Comune, key))
}

// runAPIKeyRevoke revokes a key by its id (as printed at creation) or by the key itself.
func runAPIKeyRevoke(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags("apikey revoke", e)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: apikey revoke [--config FILE] KEY-ID-OR-KEY")
	}
	s, closeFn, err := openStore(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer closeFn()
	if err := alertstore.New(s).RevokeAPIKey(ctx, fs.Arg(0)); errors.Is(err, store.ErrNotFound) {
		return errors.New("no such API key")
	} else if err != nil {
		return err
	}
	return printed(fmt.Fprintln(e.stdout, "revoked"))
}

func runSubscribersImport(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags("subscribers import", e)
	comune := fs.String("comune", "", "the comune the subscribers consented to")
	topics := fs.String("topics", "", "comma-separated topics (none: every alert of the comune)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *comune == "" {
		return errors.New("--comune is required")
	}
	if fs.NArg() != 1 {
		return errors.New("usage: subscribers import --comune ID [--topics a,b] FILE.csv (- for stdin)")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if _, ok := cfg.ComuneByID(*comune); !ok {
		return fmt.Errorf("--comune: unknown comune %q", *comune)
	}
	in := e.stdin
	actor := "import:stdin"
	if path := fs.Arg(0); path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
		actor = "import:" + filepath.Base(path)
	}
	var list []string
	for _, t := range strings.Split(*topics, ",") {
		if t = strings.TrimSpace(t); t != "" {
			list = append(list, t)
		}
	}
	s, closeFn, err := openStore(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer closeFn()
	svc, err := alerts.New(alerts.Options{Store: s, Config: cfg})
	if err != nil {
		return err
	}
	start := time.Now()
	rep, err := svc.ImportCSV(ctx, in, *comune, list, actor)
	if err != nil {
		var re *alerts.RequestError
		if errors.As(err, &re) {
			return errors.New(re.Message)
		}
		return err
	}
	_, _ = fmt.Fprintf(e.stdout, "imported %d of %d rows for %s in %s\n", rep.Imported, rep.Rows, *comune, time.Since(start).Round(time.Millisecond))
	_, _ = fmt.Fprintf(e.stdout, "skipped: %d said STOP, %d invalid, %d not mobile, %d repeated\n", rep.OptedOut, rep.Invalid, rep.NotMobile, rep.Duplicates)
	for _, ex := range rep.Examples {
		_, _ = fmt.Fprintln(e.stdout, "  "+ex)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	return printed(fmt.Fprintln(e.stdout, string(b)))
}
