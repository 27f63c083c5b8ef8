// Package admin runs the centre's people and keys: operators and supervisors (create, edit,
// disable and enable, reset a password), each user's own account (password, preferences, API
// tokens for scripts) and the comuni's API keys. It is the one place that decides who may do
// what to whom: a supervisor manages the people and keys of their own comuni, an admin
// everything, and a user or key out of the caller's reach does not exist for them
// (NotFound). Every change commits with its audit entry. The web pages, the operator API and
// the command line all call it.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// Options configure the service.
type Options struct {
	Store  *store.Store
	Config *config.Config
	// Events tells open event streams to re-check their credentials when a user is disabled,
	// loses sessions, or has their role, comuni or categories changed (nil: they notice within
	// auth.DefaultRecheck).
	Events events.Publisher
	// Gate runs the check of a user's current password (a default gate when nil).
	Gate *auth.PasswordGate
	// Attempts counts wrong current passwords: give it the login's (pages.Attempts), so that
	// asking for the password here is no way around the login's limits. When nil, a count of
	// its own shares only the per-user limit (kept in the database) with the login.
	Attempts *auth.PasswordAttempts
	// TokenTTL is how long a token made for scripts lasts (0 = until revoked).
	TokenTTL time.Duration
	Logger   *slog.Logger
}

// Service is the administration of people and keys.
type Service struct{ o Options }

// New checks the options.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Config == nil {
		return nil, errors.New("admin: a store and the config are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Gate == nil {
		o.Gate = auth.NewPasswordGate(auth.GateOptions{})
	}
	if o.Attempts == nil {
		o.Attempts = auth.NewPasswordAttempts(o.Store, auth.AttemptLimits{})
	}
	return &Service{o: o}, nil
}

// Kind classifies a refusal.
type Kind int

// Kinds of refusal.
const (
	Invalid   Kind = iota + 1 // bad input: 400
	NotFound                  // absent or out of the caller's reach: 404
	Forbidden                 // in reach but not theirs to do: 403
	Conflict                  // already exists: 409
	Busy                      // too many password checks at once, or too many wrong ones: 429
)

// Error is a refused request, with a stable code and a message for people.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	// RetryAfter, when set, is when a Busy request may be made again (a Retry-After header).
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Message }

func invalid(code, format string, args ...any) error {
	return &Error{Kind: Invalid, Code: code, Message: fmt.Sprintf(format, args...)}
}

func notFound(what string) error {
	return &Error{Kind: NotFound, Code: "not_found", Message: what + " not found"}
}

func forbidden(format string, args ...any) error {
	return &Error{Kind: Forbidden, Code: "forbidden", Message: fmt.Sprintf(format, args...)}
}

// rank orders the roles.
func rank(role string) int {
	switch role {
	case store.RoleOperator:
		return 1
	case store.RoleSupervisor:
		return 2
	case store.RoleAdmin:
		return 3
	}
	return 0
}

// inComuni reports whether every one of want is in have (a nil have is every comune).
func inComuni(have, want []string) bool {
	if len(have) == 0 {
		return true
	}
	for _, w := range want {
		found := false
		for _, h := range have {
			if h == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// reaches reports whether actor may see user u: an unscoped actor sees everyone, a scoped one
// only the users whose comuni are all theirs (an unscoped user, central staff, is not).
func reaches(actor store.User, u store.User) bool {
	if !actor.AtLeast(store.RoleSupervisor) {
		return actor.ID == u.ID
	}
	if len(actor.Comuni) == 0 {
		return true
	}
	return len(u.Comuni) > 0 && inComuni(actor.Comuni, u.Comuni)
}

// Roles are the roles actor may give.
func Roles(actor store.User) []string {
	var out []string
	for _, r := range []string{store.RoleOperator, store.RoleSupervisor, store.RoleAdmin} {
		if rank(r) <= rank(actor.Role) {
			out = append(out, r)
		}
	}
	return out
}

// Comuni are the comuni actor may give and manage keys of.
func (s *Service) Comuni(actor store.User) []config.Comune {
	var out []config.Comune
	for _, c := range s.o.Config.Comuni {
		if inComuni(actor.Comuni, []string{c.ID}) {
			out = append(out, c)
		}
	}
	return out
}

// Categories are the skills a user may be given.
func (s *Service) Categories() []config.Category { return s.o.Config.Categories }

// publishRevoked tells open streams of a user to re-check their credentials. The change is
// committed already; a lost event only delays them until their periodic re-check.
func (s *Service) publishRevoked(ctx context.Context, userID string) {
	if s.o.Events == nil {
		return
	}
	if err := s.o.Events.Publish(ctx, events.Event{Type: events.UserRevoked, UserID: userID}); err != nil {
		s.o.Logger.Warn("telling open streams a user's credentials changed failed; they notice at their next re-check",
			"user_id", userID, "err", err, "within", auth.DefaultRecheck)
	}
}

func (s *Service) entry(actor store.User, action, target, detail string) store.AuditEntry {
	name := actor.Username
	if name == "" {
		name = store.AuditSystem
	}
	return store.AuditEntry{Actor: name, Action: action, Target: target, Detail: detail}
}

// comuneEntry is entry for an action about something of one comune (an API key): scoped
// readers see it by that comune.
func (s *Service) comuneEntry(actor store.User, action, target, comune, detail string) store.AuditEntry {
	e := s.entry(actor, action, target, detail)
	e.Comune = comune
	return e
}
