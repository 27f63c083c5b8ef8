package alertpages

import (
	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/pages"
)

// cancel stops what the alert has not sent yet.
func (h *Handler) cancel(c echo.Context) error {
	st, err := h.alertOf(c)
	if err != nil {
		return err
	}
	if _, err := h.o.Alerts.CancelAlert(c.Request().Context(), st.Comune, st.ID); err != nil {
		return problem(err)
	}
	return pages.Redirect(c, Prefix+"/"+st.ID+"?cancelled=1")
}
