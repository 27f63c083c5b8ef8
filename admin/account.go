package admin

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sportello/sportello/clientaddr"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// Languages a user may prefer ("" follows the browser).
var languages = []string{"", "it", "en"}

// Presences a login may start with ("" keeps the last one).
var presences = []string{"", "available", "away", "offline"}

// ChangePassword replaces the actor's own password after checking the current one. Every
// other session of theirs ends; keep is the session token to keep ("" when the change came
// with an API token: all end). client is the caller's address.
//
// Whoever holds a stolen session or token can call this, so the current password is guarded
// like the login's: everything that can be answered without it is answered first (an answer
// given only after the check would tell a guesser that the guess was right), and wrong ones
// count against the login's own limits and leave an audit entry.
func (s *Service) ChangePassword(ctx context.Context, actor store.User, client, keep, current, next string) error {
	u, err := s.o.Store.UserByID(ctx, actor.ID)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("user")
	}
	if err != nil {
		return err
	}
	if current == next {
		return invalid("password_unchanged", "the new password is the current one")
	}
	if err := policy(next, u.Username); err != nil {
		return err
	}
	if err := s.checkCurrentPassword(ctx, actor, u, client, current); err != nil {
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

// checkCurrentPassword checks u's password through the gate, counted by the login's attempts:
// nil when right, wrong_password (audited) when wrong, too_many_attempts with a RetryAfter
// once a limit is spent, before any check.
func (s *Service) checkCurrentPassword(ctx context.Context, actor, u store.User, client, current string) error {
	attempt, err := s.o.Attempts.Reserve(ctx, client, u.Username)
	var spent *auth.TooManyAttemptsError
	if errors.As(err, &spent) {
		s.o.Logger.Warn("password change refused: too many wrong current passwords", "user", u.Username, "client", client)
		return &Error{Kind: Busy, Code: "too_many_attempts", RetryAfter: spent.RetryAfter,
			Message: "too many wrong passwords; try again in " + spent.RetryAfter.Round(time.Second).String()}
	}
	if err != nil {
		return err
	}
	ok, err := s.o.Gate.Check(ctx, clientaddr.LimitKey(client), u.PasswordHash, current)
	if err != nil {
		s.giveBack(ctx, attempt.Void)
		if errors.Is(err, auth.ErrBusy) {
			return &Error{Kind: Busy, Code: "busy", RetryAfter: time.Second,
				Message: "too many password checks at once; try again in a moment"}
		}
		return err
	}
	if !ok {
		if err := s.o.Store.Audit(ctx, s.entry(actor, store.AuditPasswordChangeFailed, u.Username, "wrong current password from "+client)); err != nil {
			return err
		}
		return invalid("wrong_password", "the current password is not right")
	}
	s.giveBack(ctx, attempt.Succeeded)
	return nil
}

// giveBack returns a reserved guess, even when the caller has gone (a check cancelled while
// waiting for the gate judged nothing). A failure to leaves it counted: one guess of the
// user's budget, not worth refusing a change already judged.
func (s *Service) giveBack(ctx context.Context, give func(context.Context) error) {
	if err := give(context.WithoutCancel(ctx)); err != nil {
		s.o.Logger.Warn("giving back a password attempt failed", "err", err)
	}
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
