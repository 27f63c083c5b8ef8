// Package reportapi serves the reports under /api/v1/reports (contract section 7) to
// supervisors and admins, by user token or session, and the summary also to a comune's API
// key, scoped to its comune. Each handler lives in its own file; this is the route list.
package reportapi

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/reports"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/web/auth"
)

// API serves the reports.
type API struct {
	Reports *reports.Service
	Store   *store.Store
	Auth    *auth.Authenticator
	Logger  *slog.Logger
	// KeyRequestsPerMinute is a comune key's limit (alerts.requests_per_minute, default 600),
	// taken from the same database bucket as its notification API requests.
	KeyRequestsPerMinute int
}

func (a *API) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.Default()
	}
	return a.Logger
}

// Register is the reports' route list. Routes carry their own middleware: the operator API's
// group already claims /api/v1/* for users, and the summary also admits comune keys.
func (a *API) Register(e *echo.Echo) {
	supervisors := []echo.MiddlewareFunc{a.Auth.RequireUser, auth.RequireRole(store.RoleSupervisor)}
	e.GET("/api/v1/reports/summary", a.summary, a.userOrKey)
	e.GET("/api/v1/reports/contacts.csv", a.contactsCSV, supervisors...)
	e.GET("/api/v1/reports/staffing", a.staffing, supervisors...)
}

const keyComuneCtx = "reportapi.key_comune"

// userOrKey routes by the credential: a bearer comune API key (its prefix says so) reads its
// own comune's figures; anything else must be a supervisor's or admin's token or session.
func (a *API) userOrKey(next echo.HandlerFunc) echo.HandlerFunc {
	asUser := a.Auth.RequireUser(auth.RequireRole(store.RoleSupervisor)(next))
	return func(c echo.Context) error {
		token, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
		token = strings.TrimSpace(token)
		if !ok || !strings.HasPrefix(token, alertstore.APIKeyPrefix) {
			return asUser(c)
		}
		k, err := alertstore.New(a.Store).APIKeyByToken(c.Request().Context(), token)
		if errors.Is(err, store.ErrNotFound) {
			return httperr.New(http.StatusUnauthorized, "unauthorized", "unknown or revoked API key")
		}
		if err != nil {
			return err
		}
		rate := alertstore.Rate{Limit: a.KeyRequestsPerMinute, Per: time.Minute}
		if rate.Limit <= 0 {
			rate.Limit = 600
		}
		err = alertstore.New(a.Store).TakeRate(c.Request().Context(), alertstore.KeyBucket(k.ID), 1, rate)
		var rl *alertstore.RateLimitedError
		if errors.As(err, &rl) {
			secs := max(1, int(math.Ceil(rl.RetryAfter.Seconds())))
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
			return httperr.New(http.StatusTooManyRequests, "rate_limited", "more than %d requests a minute with this key; retry in %d s", rate.Limit, secs)
		}
		if err != nil {
			return err
		}
		err = a.Store.Write(c.Request().Context(), func(ctx context.Context, tx *store.Tx) error {
			return alertstore.CountAPIKeyUseTx(ctx, tx, k.ID)
		})
		if err != nil {
			return err
		}
		c.Set(keyComuneCtx, k.Comune)
		return next(c)
	}
}

// scope is the comuni the caller may see: the key's comune, or the user's (nil: all).
func scope(c echo.Context) []string {
	if k, ok := c.Get(keyComuneCtx).(string); ok {
		return []string{k}
	}
	return auth.User(c).Scope().Comuni
}

// query reads from, to and comune within the caller's scope.
func (a *API) query(c echo.Context) (reports.Query, error) {
	p := c.QueryParams()
	q, err := a.Reports.NewQuery(p.Get("from"), p.Get("to"), p.Get("comune"), scope(c))
	return q, apiError(err)
}

func apiError(err error) error {
	var re *reports.RangeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		return httperr.BadRequest("invalid_range", "%s", re.Reason)
	case errors.Is(err, reports.ErrOutOfScope):
		return httperr.NotFound("comune")
	}
	return err
}
