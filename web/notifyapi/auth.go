package notifyapi

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

const keyCtx = "notifyapi.key"

// requireKey admits requests with a live comune API key (401 otherwise) and puts the key on
// the request: every handler acts only within the key's comune.
func (a *API) requireKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || token == "" {
			return httperr.New(http.StatusUnauthorized, "unauthorized", "an API key is required: Authorization: Bearer <key>")
		}
		k, err := alertstore.New(a.o.Store).APIKeyByToken(c.Request().Context(), strings.TrimSpace(token))
		if errors.Is(err, store.ErrNotFound) {
			return httperr.New(http.StatusUnauthorized, "unauthorized", "unknown or revoked API key")
		}
		if err != nil {
			return err
		}
		c.Set(keyCtx, k)
		return next(c)
	}
}

func apiKey(c echo.Context) alertstore.APIKey {
	k, _ := c.Get(keyCtx).(alertstore.APIKey)
	return k
}

// rateLimit answers 429 when a key exceeds its requests per minute. The bucket is a row in the
// database, so the limit holds for the whole deployment however many replicas serve the key.
// An admitted request is counted on the key (its last use and request count) in the same
// transaction.
func (a *API) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := a.o.Store.Write(c.Request().Context(), func(ctx context.Context, tx *store.Tx) error {
			if err := alertstore.TakeRateTx(ctx, tx, a.bucket(c), 1, a.rate()); err != nil {
				return err
			}
			return alertstore.CountAPIKeyUseTx(ctx, tx, apiKey(c).ID)
		})
		var rl *alertstore.RateLimitedError
		if errors.As(err, &rl) {
			return a.tooMany(c, rl.RetryAfter)
		}
		if err != nil {
			return err
		}
		return next(c)
	}
}

// bucket names the key's shared rate-limit bucket.
func (a *API) bucket(c echo.Context) string { return alertstore.KeyBucket(apiKey(c).ID) }

func (a *API) rate() alertstore.Rate {
	return alertstore.Rate{Limit: a.o.RequestsPerMinute, Per: time.Minute}
}

func (a *API) tooMany(c echo.Context, retry time.Duration) error {
	secs := max(1, int(math.Ceil(retry.Seconds())))
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return httperr.New(http.StatusTooManyRequests, "rate_limited", "more than %d requests a minute with this key (each confirmation SMS counts as one); retry in %d s", a.o.RequestsPerMinute, secs)
}
