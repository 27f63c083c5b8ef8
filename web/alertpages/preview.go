package alertpages

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/alerts"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/web/pages"
)

// preview answers the composer's live preview (JSON): the texts through the comune's template,
// their cost in segments, and how many subscribers the alert would reach now. A refusal is a
// JSON error the page shows next to the form.
func (h *Handler) preview(c echo.Context) error {
	comune, req, _, err := h.readForm(c)
	if err == nil {
		req.SendAt = nil // the preview is about the text and the audience, not the time
		var p alerts.Preview
		if p, err = h.o.Alerts.Preview(c.Request().Context(), comune, req); err == nil {
			return c.JSON(http.StatusOK, p)
		}
	}
	var pr *pages.Problem
	if errors.As(problem(err), &pr) {
		return c.JSON(pr.Status, httperr.Body{Error: &httperr.Error{Code: pr.Code, Message: pages.ProblemText(c, pr)}})
	}
	return err
}
