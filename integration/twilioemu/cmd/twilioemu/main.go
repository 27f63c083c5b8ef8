// Command twilioemu runs the Twilio emulator as a server, for load tests against a running
// gateway: point twilio.api_base_url at it. It prints its base URL on stdout once it listens,
// then (with -stats-interval) one JSON stats line per interval, and final stats when it stops
// (SIGINT/SIGTERM). Faults can be flipped while it runs through /_emulator/ (see the package docs).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sportello/sportello/integration/twilioemu"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "twilioemu:", err)
		stop()
		os.Exit(1)
	}
}

type failFlag map[string]int

func (f failFlag) String() string { return fmt.Sprint(map[string]int(f)) }

func (f failFlag) Set(s string) error {
	number, code, ok := strings.Cut(s, "=")
	n, err := strconv.Atoi(code)
	if !ok || err != nil || number == "" {
		return errors.New("want NUMBER=CODE, for example +393471234567=30003")
	}
	f[number] = n
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// run serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("twilioemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		opts          twilioemu.Options
		owned, unsub  string
		fails         = failFlag{}
		listen        = fs.String("listen", "127.0.0.1:8099", "address to listen on")
		statsInterval = fs.Duration("stats-interval", 0, "print stats as JSON every interval (0: only at exit)")
		verbose       = fs.Bool("v", false, "log callback failures and faults to stderr")
	)
	fs.StringVar(&opts.AccountSID, "account-sid", envOr("TWILIO_ACCOUNT_SID", twilioemu.DefaultAccountSID), "account SID clients authenticate as (env TWILIO_ACCOUNT_SID)")
	fs.StringVar(&opts.AuthToken, "auth-token", envOr("TWILIO_AUTH_TOKEN", twilioemu.DefaultAuthToken), "auth token for Basic auth and callback signatures (env TWILIO_AUTH_TOKEN)")
	fs.DurationVar(&opts.CallbackDelay, "callback-delay", 0, "delay from acceptance to the 'sent' status callback")
	fs.DurationVar(&opts.DeliveryDelay, "delivery-delay", 0, "delay from 'sent' to 'delivered'")
	fs.IntVar(&opts.CallbackWorkers, "callback-workers", twilioemu.DefaultCallbackWorkers, "status callbacks in flight at most")
	fs.IntVar(&opts.CallbackAttempts, "callback-attempts", twilioemu.DefaultCallbackAttempts, "tries per status callback while the receiver answers 5xx")
	fs.DurationVar(&opts.CallbackTimeout, "callback-timeout", twilioemu.DefaultCallbackTimeout, "timeout of one status callback")
	fs.Float64Var(&opts.RateLimit, "rps-limit", 0, "message creations per second before 429/20429 (0: unlimited)")
	fs.IntVar(&opts.RateBurst, "rate-burst", 0, "token bucket size for -rps-limit (0: the limit rounded up)")
	fs.DurationVar(&opts.Latency, "latency", 0, "delay added to every REST answer")
	fs.BoolVar(&opts.DisableMagicNumbers, "no-magic-numbers", false, "treat Twilio's +1500555000x test numbers as ordinary numbers")
	fs.StringVar(&owned, "owned-numbers", "", "comma-separated From numbers the account owns (empty: any From)")
	fs.StringVar(&unsub, "unsubscribed", "", "comma-separated numbers that texted STOP (21610)")
	fs.Var(fails, "fail", "NUMBER=CODE: fail messages to NUMBER with a Twilio code (21xxx refused, 30xxx undelivered); repeatable")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts.OwnedNumbers = splitList(owned)
	opts.Unsubscribed = splitList(unsub)
	opts.FailNumbers = fails
	if *verbose {
		logger := log.New(stderr, "", log.LstdFlags|log.Lmicroseconds)
		opts.Logf = logger.Printf
	}
	if err := opts.Validate(); err != nil {
		return err
	}
	emu := twilioemu.New(opts)
	base, err := emu.Start(*listen)
	if err != nil {
		_ = emu.Close()
		return err
	}
	if _, err := fmt.Fprintln(stdout, base); err != nil {
		_ = emu.Close()
		return err
	}

	enc := json.NewEncoder(stdout)
	var tick <-chan time.Time
	if *statsInterval > 0 {
		t := time.NewTicker(*statsInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-tick:
			if err := enc.Encode(emu.Stats()); err != nil {
				return err
			}
		case <-ctx.Done():
			stats := emu.Stats()
			if err := emu.Close(); err != nil {
				// Callbacks still pending at a deliberate stop are worth a warning, not a failure.
				_, _ = fmt.Fprintln(stderr, "twilioemu:", err)
			}
			return enc.Encode(stats)
		}
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
