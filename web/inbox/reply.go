package inbox

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// reply answers the citizen on the contact's own channel. A refusal (no reachable address, an
// empty text) shows the thread again with the message and the text kept.
func (in *Inbox) reply(c echo.Context) error {
	id := c.Param("id")
	body := c.FormValue("body")
	via := c.FormValue("channel")
	var err error
	io, canIO := in.o.Desk.(AppIO)
	switch {
	case strings.TrimSpace(body) == "":
		err = &pages.Problem{Status: http.StatusUnprocessableEntity, Key: "err_empty_reply"}
	case via == string(channels.AppIO) && canIO:
		_, err = io.ReplyVia(c.Request().Context(), auth.User(c), id, body, channels.AppIO)
	case via == "" || via == "own":
		_, err = in.o.Desk.Reply(c.Request().Context(), auth.User(c), id, body)
	default:
		err = &pages.Problem{Status: http.StatusUnprocessableEntity, Code: "invalid_channel"}
	}
	if err == nil {
		return pages.Redirect(c, contactURL(id, "replied")+"#reply-h")
	}
	p, ok := refusal(err)
	if !ok {
		return err
	}
	if p.Status == http.StatusNotFound {
		return pages.NotFound()
	}
	return in.renderContact(c, statusOf(p), id, func(v *pages.View, cv *contactView) {
		cv.Reply, cv.ReplyError, cv.ReplyChannel = body, message(c, p), via
	})
}
