// Package adminpages is the pages that run the centre from the browser: the people
// (/admin/users), the comuni's API keys (/admin/keys) and each user's own account (/account).
// Every decision about who may do what is the admin service's; the session, CSRF, layout and
// shared texts come from web/pages. Each handler lives in its own file; this is the route list.
package adminpages

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/admin"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/pages"
)

// Options configure the pages.
type Options struct {
	Pages *pages.Pages
	Admin *admin.Service
	// PublicURL starts the set-password links (the gateway's public_url).
	PublicURL string
}

// Handler serves the pages.
type Handler struct{ o Options }

// New checks the options.
func New(o Options) (*Handler, error) {
	if o.Pages == nil || o.Admin == nil {
		return nil, errors.New("adminpages: the pages and the admin service are required")
	}
	return &Handler{o: o}, nil
}

// Register is the pages' route list: people and keys for supervisors and admins, the account
// for everyone signed in.
func (h *Handler) Register(e *echo.Echo) {
	u := h.o.Pages.Group(e, "/admin/users", store.RoleSupervisor)
	u.GET("", h.users)
	u.POST("", h.createUser)
	u.GET("/:username", h.user)
	u.POST("/:username", h.updateUser)
	u.POST("/:username/disable", h.disableUser)
	u.POST("/:username/enable", h.enableUser)
	u.POST("/:username/reset-password", h.resetPassword)
	u.POST("/:username/password-link", h.passwordLink)
	k := h.o.Pages.Group(e, "/admin/keys", store.RoleSupervisor)
	k.GET("", h.keys)
	k.POST("", h.createKey)
	k.POST("/:id/revoke", h.revokeKey)
	// The set-password link is for someone not signed in: the token in the link is the credential.
	p := h.o.Pages
	e.GET("/password/set", h.passwordForm, p.Headers, p.ErrorPages, p.CSRF)
	e.POST("/password/set", h.setPassword, p.Headers, p.ErrorPages, p.CSRF)
	a := h.o.Pages.Group(e, "/account", "")
	a.GET("", h.account)
	a.POST("/password", h.changePassword)
	a.POST("/preferences", h.savePreferences)
	a.POST("/tokens", h.createToken)
	a.POST("/tokens/:id/revoke", h.revokeToken)
}

// refusal is the admin service's refusal in the visitor's words, with its status; any other
// error is returned as it is (an error page).
func refusal(c echo.Context, err error) (int, string, error) {
	var ae *admin.Error
	if !errors.As(err, &ae) {
		return 0, "", err
	}
	if ae.Kind == admin.NotFound {
		return 0, "", pages.NotFound()
	}
	status := map[admin.Kind]int{admin.Invalid: http.StatusBadRequest, admin.Forbidden: http.StatusForbidden,
		admin.Conflict: http.StatusConflict, admin.Busy: http.StatusTooManyRequests}[ae.Kind]
	if ae.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ae.RetryAfter.Seconds()))))
	}
	l := textsFor(pages.Lang(c))
	msg := l["err_"+ae.Code]
	if msg == "" {
		msg = ae.Message
	} else if ae.Kind == admin.Invalid {
		msg += " (" + ae.Message + ")"
	}
	return status, msg, nil
}

// noStore keeps a page that shows a secret once out of every cache.
func noStore(c echo.Context) {
	c.Response().Header().Set("Cache-Control", "no-store")
}

// secretView is the page that shows a new password, key or token once.
type secretView struct {
	L       map[string]string
	Heading string
	Lead    string
	Secret  string
	Back    string
	BackTo  string
}

func (h *Handler) showSecret(c echo.Context, nav, heading, lead, secret, back, backTo string) error {
	noStore(c)
	l := textsFor(pages.Lang(c))
	return h.o.Pages.Render(c, http.StatusOK, "admin_secret", pages.View{Title: heading, Nav: nav,
		Data: secretView{L: l, Heading: l[heading], Lead: lead, Secret: secret, Back: l[back], BackTo: backTo}})
}

// formList reads a repeated form field (checkboxes), without blanks.
func formList(c echo.Context, name string) ([]string, error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, &pages.Problem{Status: http.StatusBadRequest, Message: err.Error()}
	}
	out := []string{}
	for _, v := range form[name] {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out, nil
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// linkURL is the set-password link of a token.
func (h *Handler) linkURL(token string) string {
	return strings.TrimRight(h.o.PublicURL, "/") + "/password/set?token=" + url.QueryEscape(token)
}
