package inbox

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// addFiscalCode gives the citizen the codice fiscale typed (check character verified,
// audited). A refusal shows the page again with the message and the code kept.
func (in *Inbox) addFiscalCode(c echo.Context) error {
	id := c.Param("id")
	raw := strings.TrimSpace(c.FormValue("fiscal_code"))
	io, ok := in.o.Desk.(AppIO)
	var err error
	switch {
	case !ok:
		return pages.NotFound()
	case raw == "":
		err = &pages.Problem{Status: http.StatusUnprocessableEntity, Key: "err_fiscal_code_empty"}
	default:
		_, err = io.AddFiscalCode(c.Request().Context(), auth.User(c), id, raw)
	}
	if err == nil {
		return pages.Redirect(c, "/inbox/citizens/"+url.PathEscape(id)+"?done=fiscal_code")
	}
	p, ok := refusal(err)
	if !ok {
		return err
	}
	if p.Status == http.StatusNotFound {
		return pages.NotFound()
	}
	return in.renderCitizen(c, statusOf(p), id, func(v *pages.View, cv *citizenView) {
		v.Error, cv.FiscalCode = message(c, p), raw
	})
}
