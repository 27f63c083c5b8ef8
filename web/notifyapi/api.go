// Package notifyapi is the comuni's notification API under /api/v1 (contract section 4.3):
// alerts (JSON or CAP 1.2) and subscribers, behind a per-comune API key with a rate limit per
// key, plus the public OpenAPI document of all of /api/v1. Each handler lives in its own file;
// this is the route list.
package notifyapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/alerts"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/store"
)

// Options configure the API.
type Options struct {
	Alerts *alerts.Service
	Store  *store.Store
	// RequestsPerMinute each key may make across the deployment (default 600); each
	// confirmation SMS a request causes counts as one more.
	RequestsPerMinute int
}

// API serves the notification endpoints.
type API struct {
	o Options
}

// New builds the API.
func New(o Options) (*API, error) {
	if o.Alerts == nil || o.Store == nil {
		return nil, errors.New("notifyapi: the alerts service and the store are required")
	}
	if o.RequestsPerMinute <= 0 {
		o.RequestsPerMinute = 600
	}
	return &API{o: o}, nil
}

// Register is the notification API's route list. Routes are added one by one with their
// middleware (not through Group.Use, which would claim every other /api/v1 path too).
func (a *API) Register(e *echo.Echo) {
	key := []echo.MiddlewareFunc{a.requireKey, a.rateLimit}
	g := e.Group("/api/v1")
	g.GET("/openapi.json", a.openAPI)
	g.POST("/alerts", a.createAlert, key...)
	g.GET("/alerts", a.listAlerts, key...)
	g.GET("/alerts/:id", a.getAlert, key...)
	g.POST("/alerts/:id/cancel", a.cancelAlert, key...)
	g.POST("/subscribers", a.createSubscriber, key...)
	g.GET("/subscribers/:phone", a.getSubscriber, key...)
	g.DELETE("/subscribers/:phone", a.deleteSubscriber, key...)
}

// apiError turns the service's refusals into the JSON error shape.
func apiError(err error) error {
	var re *alerts.RequestError
	if errors.As(err, &re) {
		status := http.StatusBadRequest
		switch re.Kind {
		case alerts.NotFound:
			status = http.StatusNotFound
		case alerts.Conflict:
			status = http.StatusConflict
		case alerts.TooMany:
			status = http.StatusTooManyRequests
		}
		return httperr.New(status, re.Code, "%s", re.Message)
	}
	return err
}
