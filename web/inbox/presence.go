package inbox

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// setPresence switches the operator between available, away and offline, and goes back to the
// page the switch was used on.
func (in *Inbox) setPresence(c echo.Context) error {
	status := c.FormValue("status")
	var err error
	switch status {
	case "available", "away", "offline":
		err = in.o.Desk.SetPresence(c.Request().Context(), auth.User(c), status)
	default:
		err = &pages.Problem{Status: http.StatusUnprocessableEntity, Key: "err_bad_presence"}
	}
	if err != nil {
		return err
	}
	back := "/inbox"
	// Only our own pages: the Referer's path, never its host.
	if ref := c.Request().Referer(); ref != "" {
		if i := strings.Index(ref, "/inbox"); i >= 0 && strings.HasPrefix(ref[:i], schemeHost(c)) {
			back = pages.SafeNext(ref[i:])
		}
	}
	return pages.Redirect(c, back)
}

func schemeHost(c echo.Context) string {
	return c.Scheme() + "://" + c.Request().Host
}
