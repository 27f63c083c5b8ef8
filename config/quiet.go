package config

import (
	"fmt"
	"strings"
	"time"
)

// QuietHours is alerts.quiet_hours read: a daily window, in the centre's time zone, during which
// non-urgent alerts wait. From and To are minutes after midnight; a window with From after To
// spans midnight (21:00-08:00). Off: alerts go whenever they are sent.
type QuietHours struct {
	From, To int
	Off      bool
}

// ParseQuietHours reads "HH:MM-HH:MM" or "off".
func ParseQuietHours(s string) (QuietHours, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return QuietHours{Off: true}, nil
	}
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return QuietHours{}, fmt.Errorf("must be HH:MM-HH:MM or off, got %q", s)
	}
	f, err := minutesOfDay(strings.TrimSpace(from))
	if err != nil {
		return QuietHours{}, err
	}
	t, err := minutesOfDay(strings.TrimSpace(to))
	if err != nil {
		return QuietHours{}, err
	}
	if f == t {
		return QuietHours{}, fmt.Errorf("the window %q is empty: use off to turn the quiet hours off", s)
	}
	return QuietHours{From: f, To: t}, nil
}

func minutesOfDay(s string) (int, error) {
	if !hhmm.MatchString(s) {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Until says whether t falls in the quiet window (in loc) and, if so, when the window ends: the
// next To after t, on the wall clock of loc (a DST change moves it with the clock).
func (q QuietHours) Until(t time.Time, loc *time.Location) (time.Time, bool) {
	if q.Off {
		return time.Time{}, false
	}
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	var in bool
	if q.From < q.To {
		in = m >= q.From && m < q.To
	} else {
		in = m >= q.From || m < q.To
	}
	if !in {
		return time.Time{}, false
	}
	end := time.Date(lt.Year(), lt.Month(), lt.Day(), q.To/60, q.To%60, 0, 0, loc)
	if !end.After(lt) {
		end = time.Date(lt.Year(), lt.Month(), lt.Day()+1, q.To/60, q.To%60, 0, 0, loc)
	}
	return end, true
}

// AlertQuietHours is alerts.quiet_hours read (Validate has checked it; a broken value is off).
func (c *Config) AlertQuietHours() QuietHours {
	q, err := ParseQuietHours(c.Alerts.QuietHours)
	if err != nil {
		return QuietHours{Off: true}
	}
	return q
}
