package inbox

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// Eraser is a desk that erases citizens and tells open inboxes (the gateway's); without one the
// store erases directly.
type Eraser interface {
	EraseCitizen(ctx context.Context, u store.User, citizenID, reason string) (store.ErasureCounts, error)
}

// erase erases a citizen's personal data (admins): the form needs a reason and a ticked
// confirmation; without either nothing is erased and the page says why.
func (in *Inbox) erase(c echo.Context) error {
	id := c.Param("id")
	reason := strings.TrimSpace(c.FormValue("reason"))
	var key string
	switch {
	case reason == "" || utf8.RuneCountInString(reason) > 500:
		key = "err_erase_reason"
	case c.FormValue("confirm") != "1":
		key = "err_erase_confirm"
	}
	if key == "" {
		u := auth.User(c)
		var err error
		if er, ok := in.o.Desk.(Eraser); ok {
			_, err = er.EraseCitizen(c.Request().Context(), u, id, reason)
		} else {
			_, err = in.o.Store.EraseCitizen(c.Request().Context(), id, u.Scope(), u.Username, reason)
		}
		var scrub *store.ScrubError
		if errors.As(err, &scrub) {
			in.o.Logger.Warn("erasure: database files not scrubbed", "citizen", id, "err", scrub.Err)
			err = nil
		}
		switch {
		case err == nil:
			return pages.Redirect(c, "/inbox/citizens/"+url.PathEscape(id)+"?done=erased")
		case errors.Is(err, store.ErrNotFound):
			return pages.NotFound()
		case errors.Is(err, store.ErrOutOfScope):
			key = "err_erase_scope"
		default:
			return err
		}
	}
	status := http.StatusUnprocessableEntity
	if key == "err_erase_scope" {
		status = http.StatusForbidden
	}
	return in.renderCitizen(c, status, id, func(v *pages.View, cv *citizenView) {
		v.Error, cv.EraseReason = pages.Text(c, key), reason
	})
}
