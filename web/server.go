// Package web assembles Sportello's HTTP server on echo: shared middleware (request ids,
// structured access logs, recovery, body limits, metrics), the JSON error shape, the operations
// endpoints, and the route lists that each surface (webhooks, operator API, comuni API, inbox
// pages) registers.
package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/metrics"
	"github.com/sportello/sportello/store"
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
	// MetricsToken, when set, lets "Authorization: Bearer <token>" read /metrics from anywhere;
	// without it only loopback clients may.
	MetricsToken string
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
		e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(opts.Metrics.Registry, promhttp.HandlerOpts{})), metricsGuard(opts.MetricsToken))
	}
	for _, s := range opts.Surfaces {
		s.Register(e)
	}
	return e
}

// metricsGuard lets through a request with the configured bearer token, or one from loopback.
// Loopback means both the TCP peer and the client the proxy headers name: behind a reverse
// proxy on the same host (http.trust_proxy) every request comes from loopback, so the peer
// alone would open /metrics to the internet; the forwarded client (echo's RealIP, which only
// believes X-Forwarded-For from trusted proxies and takes the first untrusted hop from the
// right, so a client cannot forge it) must be loopback too. A scraper on the host that goes
// straight to the port sends no forwarding header and is let in.
func metricsGuard(token string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if token != "" {
				if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" {
					sent, ok := strings.CutPrefix(h, "Bearer ")
					if !ok || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
						return httperr.Unauthorized()
					}
					return next(c)
				}
			}
			if isLoopback(c.Request().RemoteAddr) && isLoopback(c.RealIP()) {
				return next(c)
			}
			return httperr.New(http.StatusForbidden, "forbidden", "/metrics answers loopback clients, or the metrics.token bearer")
		}
	}
}

// isLoopback reports whether addr (an IP, or host:port) is a loopback address.
func isLoopback(addr string) bool {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	ip, err := netip.ParseAddr(addr)
	return err == nil && ip.Unmap().IsLoopback()
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

func readyz(s *store.Store) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
		defer cancel()
		if full, st := s.PoolExhausted(); full {
			// Every connection is taken: requests queue for one (database.max_open_conns).
			return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "database pool exhausted",
				"in_use": st.InUse, "max_open": st.MaxOpenConnections, "waited": st.WaitCount})
		}
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
