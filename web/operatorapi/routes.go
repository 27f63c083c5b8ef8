// Package operatorapi is the operators' JSON API under /api/v1 (bearer token or the inbox's
// session cookie). Each handler lives in its own file; this is the route list.
package operatorapi

import (
	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// API serves the operator endpoints.
type API struct {
	Store *store.Store
	Auth  *auth.Authenticator
}

// Register is the operator API's route list.
func (a *API) Register(e *echo.Echo) {
	g := e.Group("/api/v1", a.Auth.RequireUser)
	g.GET("/contacts", a.listContacts)
	g.GET("/contacts/:id", a.getContact)
	g.GET("/contacts/:id/attachments/:attachment_id", a.getAttachment)
	g.GET("/contacts/:id/attachments/:attachment_id/preview", a.getAttachmentPreview)
}
