package pages

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/clientaddr"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

type loginView struct {
	Username  string
	Next      string
	LoggedOut bool
}

// loginForm shows the form, or sends a signed-in user straight on.
func (p *Pages) loginForm(c echo.Context) error {
	next := SafeNext(c.QueryParam("next"))
	if _, err := p.sessionUser(c); err == nil {
		return Redirect(c, next)
	}
	return p.Render(c, http.StatusOK, "login", View{Title: "login_title", Nav: "login",
		Data: loginView{Next: next, LoggedOut: c.QueryParam("bye") != ""}})
}

// login checks the password and starts a session. Wrong username and wrong password get the
// same message, and a username that does not exist costs the same password check. The guess
// is counted before the check (and given back when right), so parallel requests cannot all
// slip under a limit one short of spent.
func (p *Pages) login(c echo.Context) error {
	ctx := c.Request().Context()
	username := strings.TrimSpace(c.FormValue("username"))
	password := c.FormValue("password")
	next := SafeNext(c.FormValue("next"))
	client := clientaddr.LimitKey(c.RealIP())
	attempt, err := p.attempts.Reserve(ctx, client, username)
	var spent *auth.TooManyAttemptsError
	if errors.As(err, &spent) {
		return &Problem{Status: http.StatusTooManyRequests, Key: "err_login_rate", RetryAfter: spent.RetryAfter}
	}
	if err != nil {
		return err
	}
	fail := func() error {
		return p.Render(c, http.StatusUnauthorized, "login", View{Title: "login_title", Nav: "login",
			Error: Text(c, "login_failed"), Data: loginView{Username: username, Next: next}})
	}
	if username == "" || password == "" {
		return fail()
	}
	u, ok, err := p.checkLogin(ctx, client, username, password)
	if errors.Is(err, auth.ErrBusy) {
		p.giveBack(ctx, attempt.Void)
		return &Problem{Status: http.StatusTooManyRequests, Key: "err_login_busy", RetryAfter: time.Second}
	}
	if err != nil {
		p.giveBack(ctx, attempt.Void)
		return err
	}
	if !ok {
		return fail()
	}
	p.giveBack(ctx, attempt.Succeeded)
	// A new token at every login: a session id planted before login is worth nothing after it.
	if ck, err := c.Cookie(auth.SessionCookie); err == nil && ck.Value != "" {
		if err := p.o.Store.RevokeToken(ctx, ck.Value); err != nil {
			return err
		}
	}
	token, err := p.o.Store.CreateToken(ctx, u.ID, store.TokenSession, p.o.SessionTTL)
	if err != nil {
		return err
	}
	p.setSession(c, token)
	if p.o.OnLogin != nil {
		if lang, err := p.o.OnLogin(ctx, u); err != nil {
			p.o.Logger.Warn("applying the user's preferences at login failed", "user", u.Username, "err", err)
		} else if known(lang) {
			SetLang(c, lang)
		}
	}
	p.o.Logger.Info("login", "user", u.Username, "ip", c.RealIP())
	return Redirect(c, next)
}

// checkLogin finds username and checks password through the gate. A username that does not
// exist is checked against the dummy hash, and a disabled user after the real check: both
// cost what a wrong password costs and answer the same.
func (p *Pages) checkLogin(ctx context.Context, client, username, password string) (store.User, bool, error) {
	u, err := p.o.Store.UserByUsername(ctx, username)
	hash := u.PasswordHash
	if errors.Is(err, store.ErrNotFound) {
		hash = p.dummy
	} else if err != nil {
		return store.User{}, false, err
	}
	ok, err := p.o.Gate.Check(ctx, client, hash, password)
	if err != nil || !ok || hash == p.dummy {
		return store.User{}, false, err
	}
	disabled, err := p.o.Store.UserDisabled(ctx, u.ID)
	if err != nil || disabled {
		return store.User{}, false, err
	}
	return u, true, nil
}

// giveBack returns a reserved guess, even when the client has gone (a check cancelled while
// waiting for the gate judged nothing). A failure to (the database gone for a moment) leaves it
// counted, which costs the user one guess of their budget and is not worth failing the request.
func (p *Pages) giveBack(ctx context.Context, give func(context.Context) error) {
	if err := give(context.WithoutCancel(ctx)); err != nil {
		p.o.Logger.Warn("giving back a password attempt failed", "err", err)
	}
}

// logout ends this session; ending the user's last one sets them offline, so nothing is
// assigned to someone who left.
func (p *Pages) logout(c echo.Context) error {
	ctx := c.Request().Context()
	ck, err := c.Cookie(auth.SessionCookie)
	if err == nil && ck.Value != "" {
		u, uerr := p.o.Store.UserByToken(ctx, ck.Value, store.TokenSession)
		if err := p.o.Store.RevokeToken(ctx, ck.Value); err != nil {
			return err
		}
		if uerr == nil {
			n, err := p.o.Store.CountLiveSessions(ctx, u.ID)
			if err != nil {
				return err
			}
			if n == 0 && p.o.OnLastSessionEnd != nil {
				if err := p.o.OnLastSessionEnd(ctx, u); err != nil {
					p.o.Logger.Warn("setting presence offline at logout failed", "user", u.Username, "err", err)
				}
			}
			p.o.Logger.Info("logout", "user", u.Username, "sessions_left", n)
		}
	}
	p.clearSession(c)
	return Redirect(c, "/login?bye=1")
}
