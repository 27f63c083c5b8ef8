package deskpages

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/pages"
)

// cannedList shows the canned answers of the user's comuni and the shared ones, and the form
// for a new one.
func (h *Handler) cannedList(c echo.Context) error {
	notice := ""
	if done := c.QueryParam("done"); done == "created" || done == "saved" || done == "deleted" {
		notice = textsFor(pages.Lang(c))["done_"+done]
	}
	return h.renderCanned(c, http.StatusOK, cannedForm{}, false, notice, "")
}
