package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"

	"github.com/labstack/echo/v4"
)

// CSRF protection, one rule for the pages and the JSON API: an unsafe request authenticated by
// the session cookie must carry, in the X-CSRF-Token header or the `csrf` form field, the
// token of that session. The token is derived from the session token (a hash under its own
// label), so it is tied to the session: a value planted in a cookie by a sibling subdomain, or
// the token of another session, is worth nothing, and a new login makes the old page's token
// stale. Knowing the CSRF token reveals nothing of the session. Before login there is no
// session: the login form's token is the random value of the sportello_csrf cookie
// (SameSite=Strict, HttpOnly), double-submitted.
const (
	CSRFCookie = "sportello_csrf"
	CSRFField  = "csrf"
	CSRFHeader = "X-CSRF-Token"
)

// SessionCSRF is the CSRF token of a session.
func SessionCSRF(session string) string {
	sum := sha256.Sum256([]byte("sportello csrf token\x00" + session))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// CSRFToken is the token unsafe requests of r's visitor must send back: their session's, or
// before login the sportello_csrf cookie's ("" when they have neither yet).
func CSRFToken(r *http.Request) string {
	if ck, err := r.Cookie(SessionCookie); err == nil && ck.Value != "" {
		return SessionCSRF(ck.Value)
	}
	if ck, err := r.Cookie(CSRFCookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	return ""
}

// CheckCSRF reports whether an unsafe request carries its visitor's CSRF token.
func CheckCSRF(c echo.Context) bool {
	want := CSRFToken(c.Request())
	if want == "" {
		return false
	}
	sent := c.Request().Header.Get(CSRFHeader)
	if sent == "" {
		sent = c.FormValue(CSRFField)
	}
	return sent != "" && subtle.ConstantTimeCompare([]byte(sent), []byte(want)) == 1
}
