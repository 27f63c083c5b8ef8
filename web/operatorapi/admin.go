package operatorapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/admin"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/jsonbody"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/web/auth"
)

// Admin serves the administration of people and keys over the API (contract section 13):
// users, the caller's own password and the comuni's API keys, through the admin service that
// the pages and the command line use too.
type Admin struct {
	Auth  *auth.Authenticator
	Admin *admin.Service
}

// Register is the administration's route list.
func (a *Admin) Register(e *echo.Echo) {
	g := e.Group("/api/v1", a.Auth.RequireUser, requireCSRF)
	g.POST("/users", a.createUser)
	g.GET("/users/:username", a.getUser)
	g.PATCH("/users/:username", a.updateUser)
	g.POST("/me/password", a.changePassword)
	g.GET("/keys", a.listKeys)
	g.POST("/keys", a.createKey)
	g.DELETE("/keys/:id", a.revokeKey)
}

// adminError turns the service's refusals into the API's error shape.
func adminError(err error) error {
	var ae *admin.Error
	if !errors.As(err, &ae) {
		return err
	}
	status := map[admin.Kind]int{admin.Invalid: http.StatusBadRequest, admin.NotFound: http.StatusNotFound,
		admin.Forbidden: http.StatusForbidden, admin.Conflict: http.StatusConflict, admin.Busy: http.StatusTooManyRequests}[ae.Kind]
	if status == 0 {
		status = http.StatusBadRequest
	}
	return httperr.New(status, ae.Code, "%s", ae.Message)
}

// decodeStrict is decodeJSON refusing fields the endpoint does not know, so a misspelt field
// is a clear 400 rather than a change silently not made.
func decodeStrict(c echo.Context, v any) error {
	return jsonbody.Read(c.Request().Body, v, jsonbody.Options{AllowEmpty: true, DisallowUnknownFields: true})
}

// UserJSON is a user as the administration API shows them.
type UserJSON struct {
	ID         string    `json:"id"`
	Username   string    `json:"username"`
	Name       string    `json:"name"`
	Role       string    `json:"role"`
	Comuni     []string  `json:"comuni"`
	Categories []string  `json:"categories"`
	Capacity   int       `json:"capacity"`
	Phone      string    `json:"phone"`
	Presence   string    `json:"presence"`
	Open       int       `json:"open"`
	Disabled   bool      `json:"disabled"`
	CreatedAt  time.Time `json:"created_at"`
}

func userJSON(u store.UserRecord) UserJSON {
	j := UserJSON{ID: u.ID, Username: u.Username, Name: u.Name, Role: u.Role, Comuni: u.Comuni, Categories: u.Categories,
		Capacity: u.Capacity, Phone: u.Phone, Presence: u.Presence, Open: u.Open, Disabled: u.Disabled, CreatedAt: u.CreatedAt}
	if j.Comuni == nil {
		j.Comuni = []string{}
	}
	if j.Categories == nil {
		j.Categories = []string{}
	}
	return j
}

// KeyJSON is a comune's API key without its secret.
type KeyJSON struct {
	ID         string     `json:"id"`
	Comune     string     `json:"comune"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Requests   int64      `json:"requests"`
}

func keyJSON(k alertstore.APIKey) KeyJSON {
	return KeyJSON{ID: k.ID, Comune: k.Comune, Name: k.Name, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt,
		LastUsedAt: k.LastUsedAt, Requests: k.Requests}
}
