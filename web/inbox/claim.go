package inbox

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// claim takes a contact from its queue for the signed-in operator.
func (in *Inbox) claim(c echo.Context) error {
	id := c.Param("id")
	err := in.o.Desk.Claim(c.Request().Context(), auth.User(c), id)
	if err == nil {
		return pages.Redirect(c, contactURL(id, "claimed"))
	}
	return in.actionRefused(c, id, err)
}

// actionRefused shows the contact again with the desk's message at the top.
func (in *Inbox) actionRefused(c echo.Context, id string, err error) error {
	p, ok := refusal(err)
	if !ok {
		return err
	}
	if p.Status == http.StatusNotFound {
		return pages.NotFound()
	}
	return in.renderContact(c, statusOf(p), id, func(v *pages.View, cv *contactView) {
		v.Error = message(c, p)
	})
}
