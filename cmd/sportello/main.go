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
		"serve":              {"serve [--config FILE] [--http ADDR] [--smtp ADDR]", runServe},
		"migrate":            {"migrate [--config FILE]", runMigrate},
		"probe":              {"probe [--url URL]  (exit 0 when /readyz answers 200)", runProbe},
		"user add":           {"user add --username U --role operator|supervisor|admin [--name N] [--comune ID]... [--category C]... [--capacity N] [--phone NUMBER|sip:URI]  (password on stdin, or asked without echo)", runUserAdd},
		"token create":       {"token create --username U [--ttl DURATION]", runTokenCreate},
		"token revoke":       {"token revoke --username U  (every token and session of U, open event streams included)", runTokenRevoke},
		"user disable":       {"user disable --username U  (no login, no token, no session)", runUserDisable},
		"user enable":        {"user enable --username U", runUserEnable},
		"user phone":         {"user phone --username U --phone NUMBER|sip:URI  (where the operator answers calls; \"\" = the browser)", runUserPhone},
		"apikey create":      {"apikey create --comune ID [--name N]", runAPIKeyCreate},
		"apikey revoke":      {"apikey revoke KEY-ID-OR-KEY", runAPIKeyRevoke},
		"subscribers import": {"subscribers import --comune ID [--topics a,b] FILE.csv", runSubscribersImport},
		"send-test sms":      {"send-test sms --from NUMBER [--to NUMBER] [--body TEXT] [--url GATEWAY]", runSendTestSMS},
		"report":             {"report [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--comune ID] [--format text|json|csv]", runReport},
		"simulate":           {"simulate --contacts N [--days D] [--profile linea-comune] [--seed S] [--url GATEWAY] [--smtp ADDR] [--cti-source NAME]", runSimulate},
		"send-test call":     {"send-test call --from NUMBER [--to NUMBER] [--status completed --duration 117] [--url GATEWAY]", runSendTestCall},
		"backup":             {"backup --out FILE [--force] [--format text|json]  (a verified snapshot of the embedded SQLite database, also while serve runs)", runBackup},
		"retention run":      {"retention run [--config FILE] [--vacuum-full]  (applies retention: now; the server also does, daily)", runRetentionRun},
		"config check":       {"config check [--config FILE]  (exit 0, or the offending key)", runConfigCheck},
		"config print":       {"config print [--config FILE]  (the effective config, secrets masked)", runConfigPrint},
		"version":            {"version  (module version and VCS commit)", runVersion},
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

func dispatch(ctx context.Context, e *env, args []string) error {
	cmds := commands()
	if len(args) > 0 && args[0] == "help" {
		// "sportello help user add" is "sportello user add --help".
		args = append(args[1:], "--help")
	}
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
	// A command group ("user") or nothing known: list what there is.
	group := ""
	if len(args) > 0 && !isHelp(args[0]) {
		group = args[0]
	}
	var names []string
	for name, c := range cmds {
		if group == "" || strings.HasPrefix(name, group+" ") {
			names = append(names, "  sportello "+c.usage)
		}
	}
	sort.Strings(names)
	if group != "" && len(names) == 0 {
		_, _ = fmt.Fprintf(e.stderr, "Usage: sportello COMMAND [--help]\n\n%s\n", strings.Join(allUsages(cmds), "\n"))
		return fmt.Errorf("unknown command %q (see sportello --help)", strings.Join(args, " "))
	}
	if group == "" {
		_, _ = fmt.Fprintf(e.stderr, "Usage: sportello COMMAND [--help]\n\n%s\n\nEvery command takes --config FILE (default $SPORTELLO_CONFIG, else ./sportello.yaml, else the built-in demo).\n", strings.Join(names, "\n"))
	} else {
		_, _ = fmt.Fprintf(e.stderr, "Usage of sportello %s:\n\n%s\n\nsportello %s SUBCOMMAND --help shows its flags.\n", group, strings.Join(names, "\n"), group)
	}
	if len(args) == 0 || isHelp(args[len(args)-1]) {
		return nil
	}
	if group != "" && len(args) == 1 {
		return fmt.Errorf("sportello %s needs a subcommand", group)
	}
	return fmt.Errorf("unknown command %q (see sportello --help)", strings.Join(args, " "))
}

// printed is the error of a write of a command's output (its byte count is not wanted).
func printed(_ int, err error) error { return err }

func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

func allUsages(cmds map[string]command) []string {
	names := make([]string, 0, len(cmds))
	for _, c := range cmds {
		names = append(names, "  sportello "+c.usage)
	}
	sort.Strings(names)
	return names
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
	fs.Usage = func() {
		usage := name
		if c, ok := commands()[name]; ok {
			usage = c.usage
		}
		_, _ = fmt.Fprintf(e.stderr, "Usage: sportello %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs, cfgPath
}
