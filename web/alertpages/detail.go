package alertpages

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/gsm7"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/web/pages"
)

// detail shows one alert with its live progress bar.
func (h *Handler) detail(c echo.Context) error {
	st, err := h.alertOf(c)
	if err != nil {
		return err
	}
	l := textsFor(pages.Lang(c))
	v := detailView{L: l, Alert: st, Done: st.Counts.Done(), Cost: gsm7.CountSegments(st.TextIT),
		Active: st.Status == alertstore.AlertScheduled || st.Status == alertstore.AlertSending, Live: Prefix + "/" + st.ID}
	if cm, ok := h.o.Alerts.Comune(st.Comune); ok {
		v.Name = cm.Name
	}
	v.CategoryName, v.SourceName = h.categoryName(st.Category), sourceName(l, st.Source)
	if st.QuietHeld {
		v.Held = fmt.Sprintf(l["quiet_held"], quietWindow(h.o.Config.AlertQuietHours()))
	}
	notice := ""
	if n, err := strconv.Atoi(c.QueryParam("created")); err == nil {
		notice = fmt.Sprintf(l["created_notice"], n)
	} else if c.QueryParam("cancelled") != "" {
		notice = l["cancelled_notice"]
	}
	return h.o.Pages.Render(c, http.StatusOK, "alert", pages.View{Title: l["title"], Nav: "alerts", Notice: notice, Data: v})
}
