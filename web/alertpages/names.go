package alertpages

import (
	"fmt"
	"time"

	"github.com/sportello/sportello/config"
)

// comuneName, categoryName and sourceName are what a person reads instead of the ids.
func (h *Handler) comuneName(id string) string {
	if cm, ok := h.o.Config.ComuneByID(id); ok {
		return cm.Name
	}
	return id
}

func (h *Handler) categoryName(id string) string {
	for _, c := range h.o.Config.Categories {
		if c.ID == id && c.Name != "" {
			return c.Name
		}
	}
	return id
}

func sourceName(l map[string]string, source string) string {
	if s, ok := l["source_"+source]; ok {
		return s
	}
	return source
}

// clock is a minute of the day as HH:MM.
func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// quietText tells the composer when an alert sent now would go: the quiet hours and, inside
// them, the time they end ("" when the quiet hours are off).
func (h *Handler) quietText(l map[string]string, now time.Time) string {
	q := h.o.Config.AlertQuietHours()
	if q.Off {
		return ""
	}
	if end, in := q.Until(now, h.o.Config.Location); in {
		return fmt.Sprintf(l["quiet_now"], clock(q.From), clock(q.To), h.when(end))
	}
	return fmt.Sprintf(l["quiet_info"], clock(q.From), clock(q.To))
}

// when is a time in the centre's zone, as the pages show it.
func (h *Handler) when(t time.Time) string {
	return t.In(h.o.Config.Location).Format("02/01/2006 15:04")
}

// quietWindow is the configured window, for the detail page's note.
func quietWindow(q config.QuietHours) string { return clock(q.From) + "–" + clock(q.To) }
