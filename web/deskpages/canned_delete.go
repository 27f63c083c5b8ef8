package deskpages

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// cannedDelete removes an answer.
func (h *Handler) cannedDelete(c echo.Context) error {
	if err := h.o.Desk.DeleteCanned(c.Request().Context(), auth.User(c), c.Param("id")); err != nil {
		status, msg, err := problem(textsFor(pages.Lang(c)), err)
		if err != nil {
			return err
		}
		return &pages.Problem{Status: status, Message: msg}
	}
	return c.Redirect(http.StatusSeeOther, "/admin/canned?done=deleted")
}
