package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

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
		s.Close()
		return nil, nil, err
	}
	return s, func() { s.Close() }, nil
}

func runUserAdd(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags("user add", e)
	username := fs.String("username", "", "login name")
	role := fs.String("role", "", "operator, supervisor or admin")
	name := fs.String("name", "", "display name")
	capacity := fs.Int("capacity", 5, "open contacts at once (operators)")
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
	u, err := s.CreateUser(ctx, store.User{Username: *username, Name: *name, Role: *role, PasswordHash: hash,
		Comuni: comuni, Categories: categories, Capacity: *capacity})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("user %q already exists", *username)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created %s %s\n%s\n", u.Role, u.Username, u.ID)
	return nil
}

// readPassword asks twice without echo when stdin is a terminal, else reads one line (a script
// pipes it in).
func readPassword(e *env, username string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(e.stderr, "Password for %s: ", username)
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(e.stderr, "Again: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
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
	tok, err := s.CreateToken(ctx, u.ID, store.TokenAPI, 0)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, tok)
	return nil
}
