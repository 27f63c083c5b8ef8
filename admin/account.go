package admin

import (
	"context"
	"errors"
	"strings"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// Languages a user may prefer ("" follows the browser).
var languages = []string{"", "it", "en"}

// Presences a login may start with ("" keeps the last one).
var presences = []string{"", "available", "away", "offline"}

// ChangePassword replaces the actor's own password after checking the current one (through
// the password gate: client is the caller's address). Every other session of theirs ends; keep
// is the session token to keep ("" when the change came with an API token: all end).
func (s *Service) ChangePassword(ctx context.Context, actor store.User, client, keep, current, next string) error {
	u, err := s.o.Store.UserByID(ctx, actor.ID)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("user")
	}
	if err != nil {
		return err
	}
	ok, err := s.o.Gate.Check(ctx, client, u.PasswordHash, current)
	if errors.Is(err, auth.ErrBusy) {
		return &Error{Kind: Busy, Code: "busy", Message: "too many password checks at once; try again in a moment"}
	}
	if err != nil {
		return err
	}
	if !ok {
		return invalid("wrong_password", "the current password is not right")
	}
	if current == next {
		return invalid("password_unchanged", "the new password is the current one")
	}
	if err := policy(next, u.Username); err != nil {
		return err
	}
	hash, err := auth.HashPassword(next)
	if err != nil {
		return err
	}
	n, err := s.o.Store.ChangePassword(ctx, u.ID, hash, keep, s.entry(actor, store.AuditPasswordChange, u.Username, ""))
	if err != nil {
		return err
	}
	if n > 0 {
		s.publishRevoked(ctx, u.ID)
	}
	return nil
}

// Account reads the actor's own record (preferences included).
func (s *Service) Account(ctx context.Context, actor store.User) (store.UserRecord, error) {
	return s.o.Store.UserRecordOf(ctx, actor.Username)
}

// Preferences are a user's own settings.
type Preferences struct {
	// Lang is the pages' language ("" follows the browser).
	Lang string `json:"lang"`
	// DefaultPresence is the presence a login starts with ("" keeps the last one).
	DefaultPresence string `json:"default_presence"`
}

// SetPreferences saves the actor's own preferences.
func (s *Service) SetPreferences(ctx context.Context, actor store.User, p Preferences) error {
	p.Lang, p.DefaultPresence = strings.TrimSpace(p.Lang), strings.TrimSpace(p.DefaultPresence)
	if !contains(languages, p.Lang) {
		return invalid("invalid_lang", "language must be it or en, not %q", p.Lang)
	}
	if !contains(presences, p.DefaultPresence) {
		return invalid("invalid_presence", "the default presence must be available, away or offline, not %q", p.DefaultPresence)
	}
	return s.o.Store.UpdateUser(ctx, actor.Username, store.UserChange{Lang: &p.Lang, DefaultPresence: &p.DefaultPresence},
		s.entry(actor, store.AuditUserUpdate, actor.Username, describe(map[string]string{"lang": p.Lang, "default_presence": p.DefaultPresence})))
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Tokens lists the actor's own API tokens.
func (s *Service) Tokens(ctx context.Context, actor store.User) ([]store.TokenInfo, error) {
	return s.o.Store.UserTokens(ctx, actor.ID, store.TokenAPI)
}

// CreateToken makes an API token for the actor's scripts, returned once.
func (s *Service) CreateToken(ctx context.Context, actor store.User, name string) (string, error) {
	name, err := cleanName(name)
	if err != nil {
		return "", err
	}
	if name == "" {
		return "", invalid("invalid_name", "name the token after what uses it")
	}
	return s.o.Store.CreateNamedToken(ctx, actor.ID, store.TokenAPI, name, s.o.TokenTTL,
		s.entry(actor, store.AuditTokenCreate, actor.Username, describe(map[string]string{"name": name})))
}

// RevokeToken revokes one of the actor's own API tokens by its id.
func (s *Service) RevokeToken(ctx context.Context, actor store.User, id string) error {
	err := s.o.Store.RevokeUserToken(ctx, actor.ID, id, s.entry(actor, store.AuditTokenRevoke, actor.Username, "token="+id))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("token")
	}
	if err == nil {
		s.publishRevoked(ctx, actor.ID)
	}
	return err
}
