package deskpages

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

var weekDays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

type dayBox struct {
	ID      string
	Checked bool
}

// hoursForm is the calendar as the form shows it (and keeps it, when refused).
type hoursForm struct {
	Days         []dayBox
	Open, Close  string
	HolidaysText string
}

type hoursView struct {
	L        map[string]string
	Comuni   []config.Comune
	Comune   string
	Name     string
	Form     hoursForm
	Upcoming []desk.UpcomingHoliday
	Edited   string
	Admin    bool
}

func formOfCalendar(cal desk.ComuneCalendar) hoursForm {
	f := hoursForm{Open: cal.Open, Close: cal.Close}
	for _, d := range weekDays {
		f.Days = append(f.Days, dayBox{ID: d, Checked: slices.Contains(cal.Days, d)})
	}
	var b strings.Builder
	for _, hd := range cal.Holidays {
		b.WriteString(strings.TrimSpace(hd.Rule + " " + hd.Name))
		b.WriteByte('\n')
	}
	f.HolidaysText = b.String()
	return f
}

// hoursShow shows a comune's hours and holidays (?comune=, default the user's first comune):
// a form for admins, the same read-only for supervisors.
func (h *Handler) hoursShow(c echo.Context) error {
	comune := c.QueryParam("comune")
	notice := ""
	if c.QueryParam("done") == "1" {
		notice = textsFor(pages.Lang(c))["done_hours"]
	}
	return h.renderHours(c, http.StatusOK, comune, nil, notice, "")
}

func (h *Handler) renderHours(c echo.Context, status int, comune string, kept *hoursForm, notice, problemText string) error {
	u := auth.User(c)
	l := textsFor(pages.Lang(c))
	comuni := h.comuniOf(u)
	if len(comuni) == 0 {
		return pages.NotFound()
	}
	if comune == "" {
		comune = comuni[0].ID
	}
	cal, err := h.o.Desk.Calendar(c.Request().Context(), u, comune)
	if err != nil {
		_, _, err := problem(l, err)
		return err
	}
	v := hoursView{L: l, Comuni: comuni, Comune: comune, Name: h.comuneName(comune), Form: formOfCalendar(cal), Upcoming: cal.Upcoming,
		Admin: u.AtLeast(store.RoleAdmin)}
	if kept != nil {
		v.Form = *kept
	}
	if cal.UpdatedAt != nil {
		v.Edited = fmt.Sprintf(l["hours_edited"], cal.UpdatedAt.In(h.o.Config.Location).Format("02/01/2006 15:04"))
	}
	return h.o.Pages.Render(c, status, "hours", pages.View{Title: l["hours_title"], Nav: "hours", Notice: notice, Error: problemText, Data: v})
}
