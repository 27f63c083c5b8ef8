package alertpages

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/alerts"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// readForm reads the composer's fields into a request for the chosen comune.
func (h *Handler) readForm(c echo.Context) (string, alerts.AlertRequest, formValues, error) {
	f := formValues{
		Comune: c.FormValue("comune"), Category: c.FormValue("category"), Message: c.FormValue("message"),
		MessageEN: c.FormValue("message_en"), SendAt: c.FormValue("send_at"), ExpiresAt: c.FormValue("expires_at"),
		GSM7: c.FormValue("gsm7_safe") != "", Urgent: c.FormValue("urgent") != "", Topics: map[string]bool{},
	}
	form, err := c.FormParams()
	if err != nil {
		return "", alerts.AlertRequest{}, f, &pages.Problem{Status: http.StatusBadRequest, Message: err.Error()}
	}
	req := alerts.AlertRequest{Category: f.Category, Message: f.Message, MessageEN: f.MessageEN, GSM7Safe: f.GSM7, Urgent: f.Urgent,
		Source: "page", CreatedBy: auth.User(c).Username}
	for _, v := range form["topics"] {
		f.Topics[v] = true
		if comune, topic, ok := strings.Cut(v, "/"); ok && comune == f.Comune {
			req.Topics = append(req.Topics, topic)
		}
	}
	if !inScope(auth.User(c), f.Comune) {
		return "", req, f, &pages.Problem{Status: http.StatusBadRequest, Code: "unknown_comune", Message: fmt.Sprintf("comune %q is not one of yours", f.Comune)}
	}
	if req.SendAt, err = h.localTime("send_at", f.SendAt); err != nil {
		return "", req, f, err
	}
	if req.ExpiresAt, err = h.localTime("expires_at", f.ExpiresAt); err != nil {
		return "", req, f, err
	}
	return f.Comune, req, f, nil
}

// localTime reads a datetime-local field in the centre's time zone.
func (h *Handler) localTime(field, v string) (*time.Time, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(v), h.o.Config.Location)
	if err != nil {
		return nil, &pages.Problem{Status: http.StatusBadRequest, Code: "invalid_" + field, Message: fmt.Sprintf("%s %q is not a date and time", field, v)}
	}
	return &t, nil
}

// create sends (or schedules) the alert and shows its progress page.
func (h *Handler) create(c echo.Context) error {
	comune, req, form, err := h.readForm(c)
	if err == nil {
		var a alerts.AlertStatus
		a.Alert, _, err = h.o.Alerts.CreateAlert(c.Request().Context(), comune, req)
		if err == nil {
			return pages.Redirect(c, fmt.Sprintf("%s/%s?created=%d", Prefix, a.ID, a.Recipients))
		}
	}
	var pr *pages.Problem
	if errors.As(problem(err), &pr) && pr.Status < 500 {
		return h.render(c, pr.Status, form, "", pages.ProblemText(c, pr))
	}
	return err
}
