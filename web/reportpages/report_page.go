package reportpages

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/reports"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// reportView is the reports page.
type reportView struct {
	L                  map[string]string
	From, To, Comune   string
	Comuni             []config.Comune
	Summary            reports.Summary
	CSVURL             string
	Channels           []string
	Days               barChart
	Calls              barChart
	Service            barChart
	Categories         hbarChart
	CategoryKeys       []string
	Outcomes           hbarChart
	OutcomeKeys        []string
	TargetLevelPercent float64
	ServicePercent     string
	FirstResponse      string
	DayLevels          []dayLevel
	WhatIf             whatIf
}

// dayLevel is a day's service level for the table beside its chart.
type dayLevel struct {
	Date, Percent                      string
	AnsweredWithinTarget, CallsOffered int64
}

// whatIf is the Erlang C form and its answer.
type whatIf struct {
	CallsPerHour, AHT, TargetSeconds, TargetLevel string
	Asked                                         bool
	Error                                         string
	Erlangs                                       float64
	Agents                                        int
	ServiceLevel                                  float64
	ASA                                           float64
}

// reportPage shows the figures of a range of days.
func (h *Handler) reportPage(c echo.Context) error {
	q := c.QueryParams()
	u := auth.User(c)
	L := textsFor(pages.Lang(c))
	query, err := h.o.Reports.NewQuery(q.Get("from"), q.Get("to"), q.Get("comune"), u.Scope().Comuni)
	var re *reports.RangeError
	if errors.Is(err, reports.ErrOutOfScope) {
		return pages.NotFound()
	}
	if errors.As(err, &re) {
		return &pages.Problem{Status: http.StatusBadRequest, Code: "invalid_range", Message: re.Reason}
	}
	if err != nil {
		return err
	}
	sum, err := h.o.Reports.Summary(c.Request().Context(), query)
	if err != nil {
		return err
	}
	v := reportView{L: L, From: query.From.String(), To: query.To.String(), Comune: query.Comune, Summary: sum,
		Channels: reports.Channels, TargetLevelPercent: h.o.Config.Reports.TargetLevel * 100}
	v.ServicePercent = strconv.FormatFloat(sum.Calls.ServiceLevel*100, 'f', 1, 64)
	if sum.FirstResponse.Median != nil {
		v.FirstResponse = strconv.FormatInt(*sum.FirstResponse.Median, 10)
	}
	for _, d := range sum.ByDay {
		v.DayLevels = append(v.DayLevels, dayLevel{Date: d.Date, Percent: strconv.FormatFloat(d.ServiceLevel*100, 'f', 1, 64),
			AnsweredWithinTarget: d.AnsweredWithinTarget, CallsOffered: d.CallsOffered})
	}
	for _, cm := range h.o.Config.Comuni {
		if u.Scope().Comuni == nil || contains(u.Scope().Comuni, cm.ID) {
			v.Comuni = append(v.Comuni, cm)
		}
	}
	csvQ := url.Values{"from": {v.From}, "to": {v.To}}
	if v.Comune != "" {
		csvQ.Set("comune", v.Comune)
	}
	v.CSVURL = "/api/v1/reports/contacts.csv?" + csvQ.Encode()

	count := func(x float64) string { return strconv.FormatFloat(x, 'f', 0, 64) }
	labels := make([]string, len(sum.ByDay))
	for i, d := range sum.ByDay {
		labels[i] = d.Date[5:]
	}
	var byChannel []series
	for _, ch := range reports.Channels {
		s := series{Label: tr(L, "channel_", ch)}
		for _, d := range sum.ByDay {
			s.Values = append(s.Values, float64(d.ByChannel[ch]))
		}
		byChannel = append(byChannel, s)
	}
	v.Days = stacked(labels, byChannel, count, 0)
	answered, abandoned, other, level := series{Label: L["answered"]}, series{Label: L["abandoned"]}, series{Label: L["other_calls"]}, series{Label: L["service_level"]}
	for _, d := range sum.ByDay {
		answered.Values = append(answered.Values, float64(d.CallsAnswered))
		abandoned.Values = append(abandoned.Values, float64(d.CallsAbandoned))
		other.Values = append(other.Values, float64(d.CallsOffered-d.CallsAnswered-d.CallsAbandoned))
		level.Values = append(level.Values, d.ServiceLevel*100)
	}
	v.Calls = stacked(labels, []series{answered, abandoned, other}, count, 0)
	v.Service = stacked(labels, []series{level}, func(x float64) string { return fmt.Sprintf("%.0f %%", x) }, 100)
	v.Service.Target = true
	v.Service.TargetY = float64(chartH-padBottom) - v.TargetLevelPercent*float64(chartH-padTop-padBottom)/100
	v.Service.TargetLabel = fmt.Sprintf("%s %.0f %%", L["target"], v.TargetLevelPercent)

	for _, cat := range h.o.Config.Categories {
		v.CategoryKeys = append(v.CategoryKeys, cat.ID)
	}
	v.CategoryKeys = append(v.CategoryKeys, reports.NoComune)
	var catValues []int64
	var catLabels []string
	for _, k := range v.CategoryKeys {
		catValues = append(catValues, sum.Contacts.ByCategory[k])
		catLabels = append(catLabels, categoryName(h.o.Config, L, k))
	}
	v.Categories = horizontal(catLabels, catValues)
	v.OutcomeKeys = reports.Outcomes
	var outValues []int64
	var outLabels []string
	for _, k := range v.OutcomeKeys {
		outValues = append(outValues, sum.Outcomes[k])
		outLabels = append(outLabels, tr(L, "outcome_", k))
	}
	v.Outcomes = horizontal(outLabels, outValues)
	v.WhatIf = h.whatIf(q)
	return h.o.Pages.Render(c, http.StatusOK, "reports", pages.View{Title: L["title"], Nav: "reports", Data: v})
}

// whatIf answers the planning form: agents for calls per hour, handle time and a target.
func (h *Handler) whatIf(q url.Values) whatIf {
	w := whatIf{CallsPerHour: q.Get("calls_per_hour"), AHT: q.Get("aht_seconds"), TargetSeconds: q.Get("target_seconds"), TargetLevel: q.Get("target_level")}
	if w.TargetSeconds == "" {
		w.TargetSeconds = strconv.Itoa(h.o.Config.Reports.TargetSeconds)
	}
	if w.TargetLevel == "" {
		w.TargetLevel = strconv.FormatFloat(h.o.Config.Reports.TargetLevel, 'f', -1, 64)
	}
	if w.CallsPerHour == "" && w.AHT == "" {
		return w
	}
	w.Asked = true
	calls, err1 := strconv.ParseFloat(w.CallsPerHour, 64)
	aht, err2 := strconv.ParseFloat(w.AHT, 64)
	t, err3 := h.o.Reports.ParseTarget(w.TargetSeconds, w.TargetLevel)
	if err1 != nil || err2 != nil || err3 != nil || calls <= 0 || calls > 100000 || aht <= 0 || aht > 36000 {
		w.Error = "whatif_invalid"
		return w
	}
	w.Erlangs, w.Agents, w.ServiceLevel = reports.Plan(calls, aht, t)
	w.Erlangs = reports.Round(w.Erlangs, 2)
	w.ServiceLevel = reports.Round(w.ServiceLevel*100, 1)
	w.ASA = reports.Round(reports.AverageSpeedOfAnswer(w.Agents, calls*aht/3600, aht), 1)
	return w
}

func categoryName(cfg *config.Config, L map[string]string, id string) string {
	for _, c := range cfg.Categories {
		if c.ID == id && c.Name != "" {
			return c.Name
		}
	}
	if id == reports.NoComune {
		return L["uncategorized"]
	}
	return id
}

func tr(L map[string]string, prefix, key string) string {
	if s, ok := L[prefix+key]; ok {
		return s
	}
	return key
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
