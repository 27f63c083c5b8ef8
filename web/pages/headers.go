package pages

import (
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/templates"
)

// ContentSecurityPolicy forbids inline script and style, plugins, framing and foreign origins:
// even a citizen's text that slipped through escaping could not run.
// The browser softphone (Twilio's Voice SDK) signals over wss to *.twilio.com and plays its
// ring tones from sdk.twilio.com; media itself is WebRTC, outside CSP.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self' wss://*.twilio.com https://*.twilio.com; media-src 'self' https://sdk.twilio.com; " +
	"object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Headers sets the security headers of every page.
func (p *Pages) Headers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(self), geolocation=()") // the softphone
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		// Pages show personal data: never keep them in shared caches or the back-forward cache.
		h.Set("Cache-Control", "no-store")
		if p.o.SecureCookies {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// static serves the inbox's CSS and JavaScript from the embedded files.
func (p *Pages) static(c echo.Context) error {
	name := strings.TrimPrefix(path.Clean("/"+c.Param("*")), "/")
	b, err := fs.ReadFile(templates.Static(), name)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := c.Response().Header()
	h.Set("X-Content-Type-Options", "nosniff")
	// Files change only with a new binary; an hour keeps pages fast without stale releases for long.
	h.Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, ct, b)
}
