package deskpages

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/pages"
)

type helpView struct {
	L map[string]string
}

// help is the operators' help page: the keyboard shortcuts of the reply flow, desktop
// notifications and sound (turned on here, on a click, as browsers require), the title count.
func (h *Handler) help(c echo.Context) error {
	l := textsFor(pages.Lang(c))
	return h.o.Pages.Render(c, http.StatusOK, "help", pages.View{Title: l["help_title"], Nav: "help", Data: helpView{L: l}})
}
