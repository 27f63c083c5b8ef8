package alertpages

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/alerts"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/web/pages"
)

// previewJSON is the preview with, in words, when the alert would go.
type previewJSON struct {
	alerts.Preview
	When string `json:"when"`
}

// whenText says when the previewed alert goes: now, at its time, or at the end of the quiet hours.
func (h *Handler) whenText(l map[string]string, p alerts.Preview) string {
	switch {
	case p.QuietHeld:
		return fmt.Sprintf(l["when_quiet"], h.when(p.SendAt))
	case p.SendAt.After(h.o.Alerts.Now().Add(time.Minute)):
		return fmt.Sprintf(l["when_at"], h.when(p.SendAt))
	default:
		return l["when_now"]
	}
}

// preview answers the composer's live preview (JSON): the texts through the comune's template,
// their cost in segments, and how many subscribers the alert would reach now. A refusal is a
// JSON error the page shows next to the form.
func (h *Handler) preview(c echo.Context) error {
	comune, req, _, err := h.readForm(c)
	if err == nil {
		var p alerts.Preview
		if p, err = h.o.Alerts.Preview(c.Request().Context(), comune, req); err == nil {
			return c.JSON(http.StatusOK, previewJSON{Preview: p, When: h.whenText(textsFor(pages.Lang(c)), p)})
		}
	}
	var pr *pages.Problem
	if errors.As(problem(err), &pr) {
		return c.JSON(pr.Status, httperr.Body{Error: &httperr.Error{Code: pr.Code, Message: pages.ProblemText(c, pr)}})
	}
	return err
}
