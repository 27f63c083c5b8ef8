package inbox

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// assign gives a contact to an operator by hand (supervisors; the desk enforces the role).
func (in *Inbox) assign(c echo.Context) error {
	id := c.Param("id")
	username := c.FormValue("username")
	var err error
	if username == "" {
		err = &pages.Problem{Status: http.StatusUnprocessableEntity, Key: "err_no_assignee"}
	} else {
		err = in.o.Desk.Assign(c.Request().Context(), auth.User(c), id, username)
	}
	if err == nil {
		return pages.Redirect(c, contactURL(id, "assigned"))
	}
	return in.actionRefused(c, id, err)
}
