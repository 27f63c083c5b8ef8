package deskpages

import (
	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// cannedSave replaces an answer's fields.
func (h *Handler) cannedSave(c echo.Context) error {
	form, in, err := readCannedForm(c)
	if err != nil {
		return err
	}
	form.ID = c.Param("id")
	if _, err := h.o.Desk.UpdateCanned(c.Request().Context(), auth.User(c), form.ID, in); err != nil {
		status, msg, err := problem(textsFor(pages.Lang(c)), err)
		if err != nil {
			return err
		}
		return h.renderCanned(c, status, form, true, "", msg)
	}
	return pages.Redirect(c, "/admin/canned?done=saved")
}
