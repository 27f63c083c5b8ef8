package pages

import (
	"net/url"
	"strings"
)

// DefaultNext is where a login goes when it was given no usable destination.
const DefaultNext = "/inbox"

// SafeNext keeps a destination after login on this site: it returns next only when it is a
// plain path of ours, else DefaultNext.
//
// Browsers do not read a Location the way url.Parse does: they drop tabs and newlines anywhere
// ("/\t/evil" becomes "//evil", another host), read a backslash as a slash, and some decode
// %2F before resolving. So next must be printable ASCII without backslash (our own links are
// always escaped, so nothing legitimate is lost), parse as a path without scheme or host, and
// neither it nor its decoded path may start with "//". The login page itself is refused too,
// so a login never loops back to it.
func SafeNext(next string) string {
	if !strings.HasPrefix(next, "/") {
		return DefaultNext
	}
	for i := 0; i < len(next); i++ {
		if b := next[i]; b <= ' ' || b >= 0x7f || b == '\\' {
			return DefaultNext
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return DefaultNext
	}
	decoded, err := url.PathUnescape(u.EscapedPath())
	if err != nil || strings.HasPrefix(next, "//") || strings.HasPrefix(decoded, "//") ||
		strings.ContainsAny(decoded, "\\") || hasControl(decoded) {
		return DefaultNext
	}
	if decoded == "/login" || strings.HasPrefix(decoded, "/login/") {
		return DefaultNext
	}
	return next
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}
