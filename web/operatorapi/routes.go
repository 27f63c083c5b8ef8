// Package operatorapi is the operators' JSON API under /api/v1 (bearer token or the inbox's
// session cookie). Each handler lives in its own file; this is the route list.
package operatorapi

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// API serves the read side of the operator endpoints.
type API struct {
	Store *store.Store
	Auth  *auth.Authenticator
	// Media fetches attachments the provider keeps; nil refuses them.
	Media *ProviderMedia
}

// Register is the operator API's read route list.
func (a *API) Register(e *echo.Echo) {
	g := e.Group("/api/v1", a.Auth.RequireUser)
	g.GET("/contacts", a.listContacts)
	g.GET("/contacts/:id", a.getContact)
	g.GET("/contacts/:id/attachments/:attachment_id", a.getAttachment)
	g.GET("/contacts/:id/attachments/:attachment_id/preview", a.getAttachmentPreview)
}

// Actions serves the write side of the operator API (operator actions through the desk), the
// citizens, queues, the caller's own presence, the live event stream, users and the audit log.
// Unsafe requests authenticated by the session cookie need the CSRF token.
type Actions struct {
	Store  *store.Store
	Auth   *auth.Authenticator
	Desk   *desk.Desk
	Hub    *events.Hub
	Logger *slog.Logger
	// Heartbeat of the event stream (DefaultHeartbeat when zero).
	Heartbeat time.Duration
	// Recheck is how often the event stream re-checks its token and its user's role and scope
	// (auth.DefaultRecheck when zero).
	Recheck time.Duration
}

// Register is the write side's route list.
func (a *Actions) Register(e *echo.Echo) {
	g := e.Group("/api/v1", a.Auth.RequireUser, requireCSRF)
	g.POST("/contacts/:id/reply", a.reply)
	g.POST("/contacts/:id/assign", a.assign)
	g.POST("/contacts/:id/claim", a.claim)
	g.POST("/contacts/:id/resolve", a.resolve)
	g.POST("/contacts/:id/route", a.route)
	g.GET("/citizens/:id", a.getCitizen)
	g.POST("/citizens/:id/merge", a.mergeCitizen)
	g.POST("/citizens/:id/fiscal_code", a.addFiscalCode)
	g.GET("/citizens/:id/export", a.exportCitizen, auth.RequireRole(store.RoleAdmin))
	g.POST("/citizens/:id/erase", a.eraseCitizen, auth.RequireRole(store.RoleAdmin))
	g.GET("/queues", a.queues)
	g.GET("/offices", a.listOffices)
	g.GET("/canned", a.listCanned)
	g.GET("/canned/:id", a.getCanned)
	g.POST("/canned", a.createCanned, auth.RequireRole(store.RoleSupervisor))
	g.PUT("/canned/:id", a.updateCanned, auth.RequireRole(store.RoleSupervisor))
	g.DELETE("/canned/:id", a.deleteCanned, auth.RequireRole(store.RoleSupervisor))
	g.GET("/comuni/:id/hours", a.getHours, auth.RequireRole(store.RoleSupervisor))
	g.PUT("/comuni/:id/hours", a.putHours, auth.RequireRole(store.RoleAdmin))
	g.GET("/me", a.me)
	g.PUT("/me/status", a.setStatus)
	g.GET("/events", a.streamEvents)
	g.GET("/users", a.listUsers, auth.RequireRole(store.RoleSupervisor))
	g.GET("/audit", a.listAudit, auth.RequireRole(store.RoleAdmin))
}

// VoiceTokens issues softphone access tokens (the Twilio adapter's VoiceTokens).
type VoiceTokens interface {
	VoiceToken(username string) (token, identity string, ttlSeconds int, err error)
}

// Voice serves the operators' telephone: softphone tokens and callbacks.
type Voice struct {
	Auth *auth.Authenticator
	Desk *desk.Desk
	// Tokens is nil when the softphone is not configured.
	Tokens VoiceTokens
}

// Register is the voice route list.
func (v *Voice) Register(e *echo.Echo) {
	g := e.Group("/api/v1", v.Auth.RequireUser, requireCSRF)
	g.GET("/voice/token", v.voiceToken)
	g.POST("/contacts/:id/callback", v.callback)
	g.POST("/contacts/:id/hold", v.hold)
	g.GET("/contacts/:id/recording", v.recording)
}
