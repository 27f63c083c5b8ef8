package alertpages

import (
	"fmt"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/alerts"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/gsm7"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/web/pages"
)

// listView is the alerts page.
type listView struct {
	L          map[string]string
	Comuni     []config.Comune
	Categories []config.Category
	Topics     []topicOption
	MaxChars   int
	Form       formValues
	Alerts     []alertRow
	Counts     []comuneCount
	// Quiet says when an alert sent now would go (the quiet hours).
	Quiet string
}

// alertRow is a recent alert with the names a person reads.
type alertRow struct {
	alertstore.Alert
	ComuneName, CategoryName, SourceName string
}

type topicOption struct {
	Comune     string
	ComuneName string
	Topic      string
}

// formValues keep what the supervisor typed when a submission is refused.
type formValues struct {
	Comune, Category, Message, MessageEN, SendAt, ExpiresAt string
	Topics                                                  map[string]bool
	GSM7, Urgent                                            bool
}

// comuneCount is one comune's subscribers, in total and per topic.
type comuneCount struct {
	Comune    string
	Name      string
	Confirmed int
	Pending   int
	Stopped   int
	PerTopic  []topicCount
}

type topicCount struct {
	Topic     string
	Confirmed int // following the topic, including subscribers of every alert
}

// subscriberCounts folds the store's groups into rows per comune and topic.
func subscriberCounts(groups []alertstore.SubscriberCount, comuni []config.Comune) []comuneCount {
	byComune := map[string]*comuneCount{}
	var out []comuneCount
	for _, cm := range comuni {
		cc := comuneCount{Comune: cm.ID, Name: cm.Name}
		for _, t := range cm.Topics {
			cc.PerTopic = append(cc.PerTopic, topicCount{Topic: t})
		}
		out = append(out, cc)
	}
	for i := range out {
		byComune[out[i].Comune] = &out[i]
	}
	for _, g := range groups {
		cc, ok := byComune[g.Comune]
		if !ok {
			continue
		}
		switch g.Status {
		case alertstore.SubscriberConfirmed:
			cc.Confirmed += g.Count
			topics := map[string]bool{}
			for _, t := range strings.Split(g.Topics, ",") {
				topics[t] = true
			}
			for i := range cc.PerTopic {
				if g.Topics == "" || topics[cc.PerTopic[i].Topic] {
					cc.PerTopic[i].Confirmed += g.Count
				}
			}
		case alertstore.SubscriberPending:
			cc.Pending += g.Count
		case alertstore.SubscriberStopped:
			cc.Stopped += g.Count
		}
	}
	for i := range out {
		sort.Slice(out[i].PerTopic, func(a, b int) bool { return out[i].PerTopic[a].Topic < out[i].PerTopic[b].Topic })
	}
	return out
}

// detailView is one alert's page.
type detailView struct {
	L     map[string]string
	Alert alerts.AlertStatus
	// CategoryName, SourceName: the names of the alert's ids; Held says the quiet hours
	// postponed it (with the window).
	CategoryName, SourceName, Held string
	Done                           int
	Name                           string
	Cost                           gsm7.Segments
	Active                         bool
	Live                           string
}

// progressJSON is what the live progress bar reads.
type progressJSON struct {
	ID         string                 `json:"id"`
	Status     string                 `json:"status"`
	StatusText string                 `json:"status_text"`
	Recipients int                    `json:"recipients"`
	Done       int                    `json:"done"`
	Counts     alertstore.AlertCounts `json:"counts"`
	Label      string                 `json:"label"`
	// Stalled says why a sending alert makes no progress ("" while it progresses).
	Stalled string `json:"stalled"`
}

func progressOf(c echo.Context, st alerts.AlertStatus) progressJSON {
	l := textsFor(pages.Lang(c))
	done := st.Counts.Done()
	total := st.Recipients
	if t := st.Counts.Total(); t > 0 {
		total = t
	}
	return progressJSON{ID: st.ID, Status: st.Status, StatusText: l["status_"+st.Status], Recipients: total, Done: done, Counts: st.Counts,
		Label: fmt.Sprintf(l["progress_label"], done, total), Stalled: stalledText(l, st)}
}

// stalledText is the warning a stalled alert shows, with the reason ("" when not stalled).
func stalledText(l map[string]string, st alerts.AlertStatus) string {
	if st.StalledAt == nil {
		return ""
	}
	return fmt.Sprintf(l["stalled"], st.StalledAt.Format("15:04:05"), st.StallReason)
}
