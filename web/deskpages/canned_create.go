package deskpages

import (
	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// cannedCreate stores a new answer; a refusal shows the form again with what was typed.
func (h *Handler) cannedCreate(c echo.Context) error {
	form, in, err := readCannedForm(c)
	if err != nil {
		return err
	}
	if _, err := h.o.Desk.CreateCanned(c.Request().Context(), auth.User(c), in); err != nil {
		status, msg, err := problem(textsFor(pages.Lang(c)), err)
		if err != nil {
			return err
		}
		return h.renderCanned(c, status, form, false, "", msg)
	}
	return pages.Redirect(c, "/admin/canned?done=created")
}
