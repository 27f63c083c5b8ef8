// Package pages is the machinery every server-rendered page of Sportello shares: the session
// cookie login and logout, the middleware that sends anonymous visitors to /login, CSRF
// protection (double-submit cookie), the login rate limit, Italian and English texts, the
// layout, error pages and the security headers. The inbox and the supervisors' pages mount
// their routes on a Group it returns.
package pages

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/templates"
	"github.com/sportello/sportello/web/auth"
)

// Options configure the pages.
type Options struct {
	Store *store.Store
	// SecureCookies marks cookies Secure (the public URL is https).
	SecureCookies bool
	// Location renders times (the centre's time zone).
	Location *time.Location
	Logger   *slog.Logger
	// SessionTTL is how long a login lasts.
	SessionTTL time.Duration
	// LoginFailures within LoginWindow from one IP for one username lock that pair out.
	LoginFailures int
	LoginWindow   time.Duration
	// LoginFailuresPerIP within LoginWindow lock one address out whatever usernames it tries,
	// so a flood of random usernames is stopped too.
	LoginFailuresPerIP int
	// LoginFailuresPerUser within an hour lock one username out from every address. Every
	// count is kept in the database, shared by all replicas. Zero values take auth's defaults.
	LoginFailuresPerUser int
	// Gate runs the password checks (a default gate when nil): it bounds how many argon2id
	// hashes, 64 MiB each, run at once.
	Gate *auth.PasswordGate
	// OnLastSessionEnd runs when a user logs out of their last live session (presence goes offline).
	OnLastSessionEnd func(ctx context.Context, u store.User) error
	// OnLogin runs after a login and returns the user's preferred language ("" = none), which
	// the pages then speak; it may also set their presence.
	OnLogin func(ctx context.Context, u store.User) (lang string, err error)
	// Funcs are extra template functions (a feature's own formatting).
	Funcs template.FuncMap
	// Now is the clock (tests).
	Now func() time.Time
}

func (o *Options) setDefaults() error {
	if o.Store == nil {
		return errors.New("pages: a store is required")
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.Gate == nil {
		o.Gate = auth.NewPasswordGate(auth.GateOptions{})
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Pages renders pages and guards them.
type Pages struct {
	o    Options
	tmpl *template.Template
	// attempts counts password guesses, here and in every form that asks for one again.
	attempts *auth.PasswordAttempts
	dummy    string
}

// New parses every HTML view (a broken template stops start-up) and prepares the login.
func New(o Options) (*Pages, error) {
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	p := &Pages{o: o, attempts: auth.NewPasswordAttempts(o.Store, auth.AttemptLimits{PerAddressUser: o.LoginFailures,
		PerAddress: o.LoginFailuresPerIP, PerUser: o.LoginFailuresPerUser, Window: o.LoginWindow})}
	funcs := p.funcs()
	for k, v := range o.Funcs {
		funcs[k] = v
	}
	t, err := templates.ParseHTML(funcs)
	if err != nil {
		return nil, err
	}
	p.tmpl = t
	// An unknown username still costs one password check, so timing does not tell which
	// usernames exist. The dummy hash is made once: an unknown username allocates nothing of
	// its own and goes through the same gate as a known one.
	if p.dummy, err = auth.HashPassword(store.RandomToken("")); err != nil {
		return nil, err
	}
	return p, nil
}

// Register mounts the login, logout, the static files and the root redirect.
func (p *Pages) Register(e *echo.Echo) {
	// Routes one by one, not a group: a root group's middleware would also catch every other
	// surface's unknown paths and answer them with pages.
	mw := []echo.MiddlewareFunc{p.Headers, p.ErrorPages, p.CSRF}
	e.GET("/login", p.loginForm, mw...)
	e.POST("/login", p.login, mw...)
	e.POST("/logout", p.logout, mw...)
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/inbox") }, mw...)
	e.GET("/static/*", p.static)
}

// Group returns a route group for signed-in users with at least role ("" = any role): security
// headers, HTML error pages, the session (anonymous visitors go to /login) and CSRF on every
// unsafe method.
func (p *Pages) Group(e *echo.Echo, prefix, role string) *echo.Group {
	mw := []echo.MiddlewareFunc{p.Headers, p.ErrorPages, p.RequireSession, p.CSRF}
	if role != "" {
		mw = append(mw, RequireRole(role))
	}
	return e.Group(prefix, mw...)
}

// Gate is the password gate of the pages' logins, for other forms that check a password.
func (p *Pages) Gate() *auth.PasswordGate { return p.o.Gate }

// Attempts counts the logins' password guesses; other forms that check a password count theirs
// in it too, so they are no way around the login's limits.
func (p *Pages) Attempts() *auth.PasswordAttempts { return p.attempts }

// Logger is the pages' logger.
func (p *Pages) Logger() *slog.Logger { return p.o.Logger }

// Location is the time zone pages show times in.
func (p *Pages) Location() *time.Location { return p.o.Location }
