// Command sportello is the whole gateway in one binary: `sportello serve` runs it, the other
// commands administer the same database (also while serve runs).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand.
type command struct {
	usage string
	run   func(ctx context.Context, env *env, args []string) error
}

// env is what commands read and write; tests swap it.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

func commands() map[string]command {
	return map[string]command{
		"serve":              {"serve [--config FILE]", runServe},
		"migrate":            {"migrate [--config FILE]", runMigrate},
		"probe":              {"probe [--url URL]  (exit 0 when /readyz answers 200)", runProbe},
		"user add":           {"user add --username U --role operator|supervisor|admin [--name N] [--comune ID]... (password on stdin)", runUserAdd},
		"token create":       {"token create --username U [--ttl DURATION]", runTokenCreate},
		"token revoke":       {"token revoke --username U  (every token and session of U, open event streams included)", runTokenRevoke},
		"user disable":       {"user disable --username U  (no login, no token, no session)", runUserDisable},
		"user enable":        {"user enable --username U", runUserEnable},
		"apikey create":      {"apikey create --comune ID [--name N]", runAPIKeyCreate},
		"apikey revoke":      {"apikey revoke KEY-ID-OR-KEY", runAPIKeyRevoke},
		"subscribers import": {"subscribers import --comune ID [--topics a,b] FILE.csv", runSubscribersImport},
		"send-test sms":      {"send-test sms --from NUMBER [--to NUMBER] [--body TEXT] [--url GATEWAY]", runSendTestSMS},
		"report":             {"report [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--comune ID] [--format text|json|csv]", runReport},
		"simulate":           {"simulate --contacts N [--days D] [--profile linea-comune] [--seed S] [--url GATEWAY] [--smtp ADDR]", runSimulate},
		"send-test call":     {"send-test call --from NUMBER [--to NUMBER] [--status completed --duration 117] [--url GATEWAY]", runSendTestCall},
	}
}

func main() {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	ctx := context.Background()
	if err := dispatch(ctx, e, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "sportello:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func dispatch(ctx context.Context, e *env, args []string) error {
	cmds := commands()
	for _, n := range []int{2, 1} {
		if len(args) >= n {
			if c, ok := cmds[strings.Join(args[:n], " ")]; ok {
				err := c.run(ctx, e, args[n:])
				if errors.Is(err, flag.ErrHelp) {
					return nil
				}
				return err
			}
		}
	}
	names := make([]string, 0, len(cmds))
	for _, c := range cmds {
		names = append(names, "  sportello "+c.usage)
	}
	sort.Strings(names)
	fmt.Fprintf(e.stderr, "Usage:\n%s\n", strings.Join(names, "\n"))
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		return nil
	}
	return fmt.Errorf("unknown command %q", strings.Join(args, " "))
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// newFlags makes a flag set that reports errors instead of exiting, with --config.
func newFlags(name string, e *env) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	cfgPath := fs.String("config", "", "config file (default $SPORTELLO_CONFIG, else ./sportello.yaml, else the built-in demo)")
	return fs, cfgPath
}
