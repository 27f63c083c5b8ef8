package alertpages

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// list shows the composer, the subscribers per comune and topic, and the recent alerts.
func (h *Handler) list(c echo.Context) error {
	return h.render(c, http.StatusOK, formValues{GSM7: true}, "", "")
}

func (h *Handler) render(c echo.Context, status int, form formValues, notice, problem string) error {
	ctx := c.Request().Context()
	u := auth.User(c)
	comuni := h.comuniOf(u)
	v := listView{L: textsFor(pages.Lang(c)), Comuni: comuni, Categories: h.o.Config.Categories,
		MaxChars: h.o.Config.Alerts.MaxMessageChars, Form: form}
	v.Quiet = h.quietText(v.L, h.o.Alerts.Now())
	if v.Form.Topics == nil {
		v.Form.Topics = map[string]bool{}
	}
	if v.Form.Category == "" {
		v.Form.Category = "blocco-traffico"
	}
	for _, cm := range comuni {
		for _, t := range cm.Topics {
			v.Topics = append(v.Topics, topicOption{Comune: cm.ID, ComuneName: cm.Name, Topic: t})
		}
	}
	groups, err := alertstore.New(h.o.Store).CountSubscribers(ctx, "")
	if err != nil {
		return err
	}
	v.Counts = subscriberCounts(groups, comuni)
	comune := ""
	if len(u.Comuni) == 1 {
		comune = u.Comuni[0]
	}
	list, _, err := alertstore.New(h.o.Store).ListAlerts(ctx, alertstore.AlertFilter{Comune: comune, Limit: 100})
	if err != nil {
		return err
	}
	for _, a := range list {
		if inScope(u, a.Comune) && len(v.Alerts) < 30 {
			v.Alerts = append(v.Alerts, alertRow{Alert: a, ComuneName: h.comuneName(a.Comune), CategoryName: h.categoryName(a.Category),
				SourceName: sourceName(v.L, a.Source)})
		}
	}
	return h.o.Pages.Render(c, status, "alerts", pages.View{Title: v.L["title"], Nav: "alerts", Notice: notice, Error: problem, Data: v})
}
