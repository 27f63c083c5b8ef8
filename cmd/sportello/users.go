package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// openStore opens and migrates the configured database for an admin command.
func openStore(ctx context.Context, cfgPath string) (*store.Store, func(), error) {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	s, err := store.Open(ctx, store.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return nil, nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		return nil, nil, errors.Join(err, s.Close())
	}
	// Every write is committed before its call returns: closing the pool has nothing to lose.
	return s, func() { _ = s.Close() }, nil
}

func runUserAdd(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags("user add", e)
	username := fs.String("username", "", "login name")
	role := fs.String("role", "", "operator, supervisor or admin")
	name := fs.String("name", "", "display name")
	capacity := fs.Int("capacity", 5, "open contacts at once (operators)")
	phone := fs.String("phone", "", "where the operator answers calls: an E.164 number or a sip: URI (none: the browser softphone)")
	var comuni, categories listFlag
	fs.Var(&comuni, "comune", "limit the user to this comune (repeatable)")
	fs.Var(&categories, "category", "skill: categories this operator handles (repeatable; none = all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *username == "" {
		return errors.New("--username is required")
	}
	if !store.ValidRole(*role) {
		return fmt.Errorf("--role must be operator, supervisor or admin, got %q", *role)
	}
	answerAt, err := store.NormalizeOperatorPhone(*phone)
	if err != nil {
		return fmt.Errorf("--phone: %w", err)
	}
	password, err := readPassword(e, *username)
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	s, closeFn, err := openStore(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer closeFn()
	if cfg, err := loadConfig(*cfgPath); err == nil {
		for _, c := range comuni {
			if _, ok := cfg.ComuneByID(c); !ok {
				return fmt.Errorf("--comune: unknown comune %q", c)
			}
		}
	}
	u, err := s.CreateUserWith(ctx, store.User{Username: *username, Name: *name, Role: *role, PasswordHash: hash,
		Comuni: comuni, Categories: categories, Capacity: *capacity}, answerAt,
		cliAudit(store.AuditUserCreate, *username, fmt.Sprintf("role=%q comuni=%q categories=%q capacity=\"%d\" phone=%q",
			*role, strings.Join(comuni, ","), strings.Join(categories, ","), *capacity, answerAt)))
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("user %q already exists", *username)
	}
	if err != nil {
		return err
	}
	return printed(fmt.Fprintf(e.stdout, "created %s %s\n%s\n", u.Role, u.Username, u.ID))
}

// CLIActor is the audit log's actor of changes made with the command line.
const CLIActor = "cli"

// cliAudit is the audit entry of a change made with the command line.
func cliAudit(action, username, detail string) store.AuditEntry {
	return store.AuditEntry{Actor: CLIActor, Action: action, Target: username, Detail: detail}
}

// readPassword asks twice without echo when stdin is a terminal, else reads one line (a script
// pipes it in).
func readPassword(e *env, username string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		_, _ = fmt.Fprintf(e.stderr, "Password for %s: ", username)
		first, err := term.ReadPassword(int(f.Fd()))
		_, _ = fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		_, _ = fmt.Fprint(e.stderr, "Again: ")
		second, err := term.ReadPassword(int(f.Fd()))
		_, _ = fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		if string(first) != string(second) {
			return "", errors.New("the two passwords differ")
		}
		return string(first), nil
	}
	password, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && password == "" {
		return "", errors.New("the password is read as one line from stdin")
	}
	return strings.TrimRight(password, "\r\n"), nil
}

func runTokenCreate(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags("token create", e)
	username := fs.String("username", "", "the user the token acts as")
	ttl := fs.Duration("ttl", -1, "how long the token lasts (default auth.token_ttl; 0 = until revoked)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *username == "" {
		return errors.New("--username is required")
	}
	s, closeFn, err := openStore(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer closeFn()
	u, err := s.UserByUsername(ctx, *username)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %q", *username)
	}
	if err != nil {
		return err
	}
	if *ttl < 0 {
		cfg, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		*ttl = cfg.Auth.TokenTTL
	}
	tok, err := s.CreateToken(ctx, u.ID, store.TokenAPI, *ttl)
	if err != nil {
		return err
	}
	return printed(fmt.Fprintln(e.stdout, tok))
}

func runTokenRevoke(ctx context.Context, e *env, args []string) error {
	return userChange(ctx, e, "token revoke", args, func(s *store.Store, username string) (store.User, string, error) {
		u, n, err := s.RevokeUserTokens(ctx, username, cliAudit(store.AuditTokenRevoke, username, "every token and session"))
		return u, fmt.Sprintf("revoked %d tokens and sessions of %s", n, username), err
	})
}

func runUserDisable(ctx context.Context, e *env, args []string) error {
	return userChange(ctx, e, "user disable", args, func(s *store.Store, username string) (store.User, string, error) {
		u, err := s.DisableUser(ctx, username, cliAudit(store.AuditUserDisable, username, ""))
		return u, "disabled " + username, err
	})
}

func runUserEnable(ctx context.Context, e *env, args []string) error {
	return userChange(ctx, e, "user enable", args, func(s *store.Store, username string) (store.User, string, error) {
		u, err := s.EnableUser(ctx, username, cliAudit(store.AuditUserEnable, username, ""))
		return u, "enabled " + username, err
	})
}

// userChange runs a change to one user named by --username, then tells every running replica
// so the user's open event streams re-check their credentials at once. With SQLite there is
// no NOTIFY between processes: the server's streams notice within auth.DefaultRecheck.
func userChange(ctx context.Context, e *env, name string, args []string, change func(*store.Store, string) (store.User, string, error)) error {
	fs, cfgPath := newFlags(name, e)
	username := fs.String("username", "", "the user")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *username == "" {
		return errors.New("--username is required")
	}
	s, closeFn, err := openStore(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer closeFn()
	u, msg, err := change(s, *username)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %q", *username)
	}
	if err != nil {
		return err
	}
	if s.Dialect() == store.Postgres {
		n := &events.Notifier{DB: s.DB()}
		if err := n.Publish(ctx, events.Event{Type: events.UserRevoked, UserID: u.ID}); err != nil {
			// The change is committed; the streams still notice it at their next re-check.
			_, _ = fmt.Fprintf(e.stderr, "warning: telling the running replicas failed (%v); open streams end within %v\n", err, auth.DefaultRecheck)
		}
	}
	return printed(fmt.Fprintln(e.stdout, msg))
}

// runUserPhone changes where an operator answers calls; an empty --phone sends their calls to
// the browser softphone again.
func runUserPhone(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags("user phone", e)
	username := fs.String("username", "", "the operator")
	phone := fs.String("phone", "", `an E.164 number or a sip: URI; "" = the browser softphone`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *username == "" {
		return errors.New("--username is required")
	}
	answerAt, err := store.NormalizeOperatorPhone(*phone)
	if err != nil {
		return fmt.Errorf("--phone: %w", err)
	}
	s, closeFn, err := openStore(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer closeFn()
	if err := s.SetUserPhone(ctx, *username, answerAt, cliAudit(store.AuditUserUpdate, *username, fmt.Sprintf("phone=%q", answerAt))); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %q", *username)
	} else if err != nil {
		return err
	}
	if answerAt == "" {
		return printed(fmt.Fprintf(e.stdout, "%s answers calls in the browser\n", *username))
	}
	return printed(fmt.Fprintf(e.stdout, "%s answers calls at %s\n", *username, answerAt))
}
