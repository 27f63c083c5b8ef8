package inbox

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// merge folds another citizen into this one. Merging a citizen into itself or into someone
// unknown is refused with a message; nothing moves.
func (in *Inbox) merge(c echo.Context) error {
	id := c.Param("id")
	from := strings.TrimSpace(c.FormValue("citizen_id"))
	var err error
	switch from {
	case "":
		err = &pages.Problem{Status: http.StatusUnprocessableEntity, Key: "err_merge_empty"}
	case id:
		err = &pages.Problem{Status: http.StatusUnprocessableEntity, Key: "err_merge_self"}
	default:
		err = in.o.Desk.Merge(c.Request().Context(), auth.User(c), id, from)
	}
	if err == nil {
		return pages.Redirect(c, "/inbox/citizens/"+url.PathEscape(id)+"?done=merged")
	}
	p, ok := refusal(err)
	if !ok {
		return err
	}
	return in.renderCitizen(c, statusOf(p), id, func(v *pages.View, cv *citizenView) {
		v.Error, cv.MergeID = message(c, p), from
	})
}
