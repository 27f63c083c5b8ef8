// Package web assembles Sportello's HTTP server on echo: shared middleware (request ids,
// structured access logs, recovery, body limits, metrics), the JSON error shape, the operations
// endpoints, and the route lists that each surface (webhooks, operator API, comuni API, inbox
// pages) registers.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sportello/sportello/metrics"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/httperr"
)

// Surface is one group of routes with its own route list.
type Surface interface {
	Register(e *echo.Echo)
}

// Options configure the server.
type Options struct {
	Store        *store.Store
	Metrics      *metrics.Metrics
	Logger       *slog.Logger
	MaxBodyBytes int64
	TrustProxy   bool
	Surfaces     []Surface
}

// New builds the echo instance with every surface mounted.
func New(opts Options) *echo.Echo {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	if opts.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	e.HTTPErrorHandler = errorHandler(opts.Logger)
	e.Use(middleware.RequestID())
	e.Use(accessLog(opts.Logger, opts.Metrics))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		opts.Logger.Error("panic serving request", "err", err, "path", c.Path(), "stack", string(stack))
		return err
	}}))
	e.Use(bodyLimit(opts.MaxBodyBytes))
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", readyz(opts.Store))
	if opts.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(opts.Metrics.Registry, promhttp.HandlerOpts{})))
	}
	for _, s := range opts.Surfaces {
		s.Register(e)
	}
	return e
}

// bodyLimit refuses bodies over max with 413, whether or not they declare their length.
func bodyLimit(max int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > max {
				return httperr.New(http.StatusRequestEntityTooLarge, "too_large", "request body over %d bytes", max)
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, max)
			return next(c)
		}
	}
}

// IsTooLarge recognizes a body cut by the limit, for handlers that parse the body themselves.
func IsTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func readyz(s *store.Store) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
		defer cancel()
		if err := s.Ping(ctx); err != nil {
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
		}
		ok, err := s.Migrated(ctx)
		if err != nil || !ok {
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database not migrated"})
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	}
}

func accessLog(log *slog.Logger, m *metrics.Metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			status := c.Response().Status
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			if m != nil {
				code := strconv.Itoa(status)
				m.HTTPRequests.WithLabelValues(route, code).Inc()
				if strings.HasPrefix(route, "/webhooks/") {
					m.Webhook.WithLabelValues(route, code).Observe(elapsed.Seconds())
				}
			}
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			} else if route == "/healthz" || route == "/readyz" || route == "/metrics" {
				level = slog.LevelDebug
			}
			log.Log(c.Request().Context(), level, "http", "method", c.Request().Method, "path", c.Request().URL.Path,
				"route", route, "status", status, "duration_ms", float64(elapsed.Microseconds())/1000,
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "ip", c.RealIP())
			return nil
		}
	}
}

// errorHandler writes JSON errors for APIs and webhooks, and plain pages elsewhere.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	var methods routeMethods
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		e := httperr.From(err)
		if e.Status == http.StatusNotFound && errors.Is(err, echo.ErrNotFound) {
			if allow, ok := methods.allowed(c.Echo(), c.Request().Method, c.Request().URL.Path); !ok {
				c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
				e = httperr.New(http.StatusMethodNotAllowed, "method_not_allowed", "%s is not allowed here; allowed: %s", c.Request().Method, strings.Join(allow, ", "))
			}
		}
		if e.Status >= 500 {
			log.Error("request failed", "path", c.Request().URL.Path, "err", err,
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		}
		var werr error
		if wantsHTML(c) {
			werr = htmlError(c, e.Status)
		} else {
			werr = c.JSON(e.Status, httperr.Body{Error: e})
		}
		if werr != nil {
			log.Warn("writing an error response failed", "err", werr)
		}
	}
}

func wantsHTML(c echo.Context) bool {
	p := c.Request().URL.Path
	if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/webhooks/") {
		return false
	}
	return strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/html")
}
