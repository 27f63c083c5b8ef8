package cti

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/clientaddr"
	"github.com/sportello/sportello/httperr"
)

// Source is a PBX allowed to post events, known by its own bearer token.
type Source struct {
	// Name identifies the PBX in the logs and on the calls it reports; "" for the one unnamed
	// source of the cti.token shorthand.
	Name  string
	Token string
	// Networks are where the PBX may post from; empty means anywhere.
	Networks []netip.Prefix
}

// label is how the logs name the source.
func (s Source) label() string {
	if s.Name == "" {
		return "cti.token"
	}
	return s.Name
}

// source is a Source with its token's digest: tokens are compared as SHA-256 digests, so the
// comparison takes the same time whatever the length of the token sent.
type source struct {
	Source
	digest [sha256.Size]byte
}

func newSources(list []Source) ([]source, error) {
	out := make([]source, 0, len(list))
	for _, s := range list {
		if s.Token == "" {
			return nil, errors.New("cti: source " + s.label() + " has no token")
		}
		out = append(out, source{Source: s, digest: sha256.Sum256([]byte(s.Token))})
	}
	return out, nil
}

// sourceKey is where authorize leaves the request's source for the handler.
const sourceKey = "cti.source"

// authorize finds the source whose token the request bears: none is 401, as a wrong token
// always was; the right token from outside the source's networks is 403 (a leaked token, or
// a PBX that moved), logged with the source's name.
func (h *Handler) authorize(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
		if !ok {
			return httperr.Unauthorized()
		}
		src, ok := h.sourceFor(token)
		if !ok {
			return httperr.Unauthorized()
		}
		if len(src.Networks) > 0 {
			ip, _ := clientaddr.Parse(c.RealIP())
			if !clientaddr.Within(ip, src.Networks) {
				h.o.Logger.Warn("cti: a source's token from outside its networks", "source", src.label(), "ip", c.RealIP(),
					"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
				return httperr.Forbidden("source %s may not post from %s", src.label(), c.RealIP())
			}
		}
		c.Set(sourceKey, src)
		return next(c)
	}
}

// sourceFor is the source whose token this is. Every source is compared, so the time taken
// does not tell which one matched, or how far down the list.
func (h *Handler) sourceFor(token string) (Source, bool) {
	digest := sha256.Sum256([]byte(token))
	found := -1
	for i := range h.sources {
		if subtle.ConstantTimeCompare(digest[:], h.sources[i].digest[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Source{}, false
	}
	return h.sources[found].Source, true
}

// requestSource is the source authorize found.
func requestSource(c echo.Context) Source {
	src, _ := c.Get(sourceKey).(Source)
	return src
}
