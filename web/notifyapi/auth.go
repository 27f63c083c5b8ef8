package notifyapi

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
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

// rateLimit answers 429 when a key exceeds its requests per minute. The bucket is per process:
// behind N replicas a key can make up to N times the rate.
func (a *API) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ok, retry := a.limiter.allow(apiKey(c).ID, time.Now())
		if !ok {
			secs := int(math.Ceil(retry.Seconds()))
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
			return httperr.New(http.StatusTooManyRequests, "rate_limited", "more than %d requests a minute with this key; retry in %d s", a.limiter.perMinute, secs)
		}
		return next(c)
	}
}

// limiter is a token bucket per key: a minute's worth of requests, refilled continuously.
type limiter struct {
	perMinute int
	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(perMinute int) *limiter {
	return &limiter{perMinute: perMinute, buckets: map[string]*bucket{}}
}

func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rate := float64(l.perMinute) / 60
	capacity := float64(l.perMinute)
	if now.Sub(l.lastSweep) > time.Minute {
		// Full buckets carry no information: forget them.
		for k, b := range l.buckets {
			if b.tokens+now.Sub(b.last).Seconds()*rate >= capacity {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: capacity, last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(capacity, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / rate * float64(time.Second))
}
