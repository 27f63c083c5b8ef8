package operatorapi

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

// recording plays the recording of a contact's answered call through the gateway (scoped to
// the user's comuni; the provider's URL and credentials never reach the browser).
func (v *Voice) recording(c echo.Context) error {
	body, ct, err := v.Desk.Recording(c.Request().Context(), auth.User(c), c.Param("id"))
	if err != nil {
		return deskError(err)
	}
	defer body.Close()
	// Only audio plays in the page; whatever else the provider answers is a download that
	// cannot run in our origin.
	if !strings.HasPrefix(ct, "audio/") {
		ct = "application/octet-stream"
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	return c.Stream(http.StatusOK, ct, body)
}
