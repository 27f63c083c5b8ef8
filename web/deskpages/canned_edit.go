package deskpages

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// cannedEdit shows one answer's edit form (404 outside the user's comuni; 403 for an answer
// they see but may not change).
func (h *Handler) cannedEdit(c echo.Context) error {
	u := auth.User(c)
	item, err := h.o.Desk.GetCanned(c.Request().Context(), u, c.Param("id"))
	if err != nil {
		_, _, err := problem(textsFor(pages.Lang(c)), err)
		return err
	}
	comune := ""
	if item.Comune != nil {
		comune = *item.Comune
	}
	if !desk.CanEditCanned(u, comune) {
		return &pages.Problem{Status: http.StatusForbidden, Message: textsFor(pages.Lang(c))["err_forbidden"]}
	}
	return h.renderCanned(c, http.StatusOK, formOf(item), true, "", "")
}
