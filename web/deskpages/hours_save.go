package deskpages

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/router"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// hoursSave replaces a comune's hours and holidays (admins): holidays come one a line, the rule
// then the name. A refusal shows the form again with what was typed.
func (h *Handler) hoursSave(c echo.Context) error {
	comune := c.Param("comune")
	params, err := c.FormParams()
	if err != nil {
		return &pages.Problem{Status: http.StatusBadRequest, Message: err.Error()}
	}
	cal := router.Calendar{Open: params.Get("open"), Close: params.Get("close"), Holidays: []router.NamedHoliday{}}
	kept := hoursForm{Open: cal.Open, Close: cal.Close, HolidaysText: params.Get("holidays")}
	for _, d := range weekDays {
		on := slices.Contains(params["days"], d)
		kept.Days = append(kept.Days, dayBox{ID: d, Checked: on})
		if on {
			cal.Days = append(cal.Days, d)
		}
	}
	for _, line := range strings.Split(kept.HolidaysText, "\n") {
		rule, name, _ := strings.Cut(strings.TrimSpace(line), " ")
		if rule == "" {
			continue
		}
		cal.Holidays = append(cal.Holidays, router.NamedHoliday{Rule: rule, Name: strings.TrimSpace(name)})
	}
	if _, err := h.o.Desk.SetCalendar(c.Request().Context(), auth.User(c), comune, cal); err != nil {
		status, msg, err := problem(textsFor(pages.Lang(c)), err)
		if err != nil {
			return err
		}
		return h.renderHours(c, status, comune, &kept, "", msg)
	}
	return pages.Redirect(c, "/admin/hours?comune="+url.QueryEscape(comune)+"&done=1")
}
