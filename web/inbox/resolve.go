package inbox

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// resolve closes a contact with an outcome. A refusal (unknown outcome or office, a missing
// office for a transfer or forward) shows the dialog again, open, with the choices kept.
func (in *Inbox) resolve(c echo.Context) error {
	id := c.Param("id")
	r := Resolution{Outcome: c.FormValue("outcome"), Category: c.FormValue("category"), Office: c.FormValue("office"), Note: c.FormValue("note")}
	var err error
	if !channels.ValidOutcome(r.Outcome) {
		err = &pages.Problem{Status: http.StatusUnprocessableEntity, Key: "err_bad_outcome"}
	} else {
		err = in.o.Desk.Resolve(c.Request().Context(), auth.User(c), id, r)
	}
	if err == nil {
		return pages.Redirect(c, contactURL(id, "resolved_"+r.Outcome))
	}
	p, ok := refusal(err)
	if !ok {
		return err
	}
	if p.Status == http.StatusNotFound {
		return pages.NotFound()
	}
	return in.renderContact(c, statusOf(p), id, func(v *pages.View, cv *contactView) {
		cv.ResolveOpen, cv.ResolveError, cv.Resolution = true, message(c, p), r
		v.Error = cv.ResolveError
	})
}
