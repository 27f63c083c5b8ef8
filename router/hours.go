package router

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sportello/sportello/config"
)

// Hours answers whether the centre (or one comune's desk) is open, in the configured time zone.
// Build it with NewHours; it is safe for concurrent use.
type Hours struct {
	loc      *time.Location
	centre   schedule
	byComune map[string]*schedule
	// edited are the calendars edited in the database (SetSource), which win over byComune;
	// nil until a source is set and read.
	edited atomic.Pointer[editedCalendars]
	source *calendarSource
}

type schedule struct {
	days        [7]bool // by time.Weekday
	open, close int     // minutes after midnight, wall clock
	holidays    map[civilDate]bool
	rules       []HolidayRule
}

func (s *schedule) holiday(y int, m time.Month, d int) bool {
	if s.holidays[civilDate{y, m, d}] {
		return true
	}
	for _, r := range s.rules {
		if r.On(y, m, d) {
			return true
		}
	}
	return false
}

type civilDate struct {
	year  int
	month time.Month
	day   int
}

// HoursError is business hours that cannot be read.
type HoursError struct {
	Key    string
	Reason string
}

func (e *HoursError) Error() string { return fmt.Sprintf("router: %s: %s", e.Key, e.Reason) }

var weekdayByName = map[string]time.Weekday{
	"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday,
	"fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday,
}

// NewHours reads the centre's business hours and each comune's override. The time zone is
// cfg.Location when Validate has filled it, else cfg.Timezone, else UTC.
func NewHours(cfg *config.Config) (*Hours, error) {
	h := &Hours{loc: cfg.Location, byComune: map[string]*schedule{}}
	if h.loc == nil {
		loc, err := time.LoadLocation(cfg.Timezone) // "" is UTC
		if err != nil {
			return nil, &HoursError{Key: "timezone", Reason: err.Error()}
		}
		h.loc = loc
	}
	var err error
	if h.centre, err = compileHours("business_hours", cfg.BusinessHours); err != nil {
		return nil, err
	}
	for _, cm := range cfg.Comuni {
		if cm.BusinessHours == nil {
			continue
		}
		s, err := compileHours("comuni."+cm.ID+".business_hours", *cm.BusinessHours)
		if err != nil {
			return nil, err
		}
		h.byComune[cm.ID] = &s
	}
	return h, nil
}

func compileHours(key string, bh config.BusinessHours) (schedule, error) {
	s := schedule{holidays: map[civilDate]bool{}}
	for _, d := range bh.Days {
		wd, ok := weekdayByName[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			return s, &HoursError{Key: key + ".days", Reason: fmt.Sprintf("unknown day %q (use mon..sun)", d)}
		}
		s.days[wd] = true
	}
	var err error
	if s.open, err = parseClock(bh.Open); err != nil {
		return s, &HoursError{Key: key + ".open", Reason: err.Error()}
	}
	if s.close, err = parseClock(bh.Close); err != nil {
		return s, &HoursError{Key: key + ".close", Reason: err.Error()}
	}
	if s.close <= s.open {
		return s, &HoursError{Key: key + ".close", Reason: "must be after open"}
	}
	for _, d := range bh.Holidays {
		t, err := time.Parse("2006-01-02", d)
		if err != nil {
			return s, &HoursError{Key: key + ".holidays", Reason: fmt.Sprintf("%q is not a YYYY-MM-DD date", d)}
		}
		s.holidays[civilDate{t.Year(), t.Month(), t.Day()}] = true
	}
	return s, nil
}

func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("must be HH:MM, got %q", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

func (h *Hours) scheduleFor(comune string) *schedule {
	if e := h.current(); e != nil {
		if s, ok := e.byComune[comune]; ok {
			return s
		}
	}
	if s, ok := h.byComune[comune]; ok {
		return s
	}
	return &h.centre
}

// Location is the time zone the hours are read in.
func (h *Hours) Location() *time.Location { return h.loc }

// Open reports whether the comune's desk (the centre's hours unless the comune has its own) is
// open at t: on an open weekday that is not a holiday, from the opening minute included to the
// closing minute excluded, on the local wall clock (so daylight saving changes nothing).
func (h *Hours) Open(comune string, t time.Time) bool {
	return h.scheduleFor(comune).openAt(t.In(h.loc))
}

func (s *schedule) openAt(local time.Time) bool {
	y, m, d := local.Date()
	if !s.days[local.Weekday()] || s.holiday(y, m, d) {
		return false
	}
	// Seconds matter at the closing edge: 19:59:59 is open, 20:00:00 closed.
	sec := local.Hour()*3600 + local.Minute()*60 + local.Second()
	return s.open*60 <= sec && sec < s.close*60
}

// NextOpen is t itself when the desk is open at t, else the next opening time; the zero time
// when it never opens (no days configured).
func (h *Hours) NextOpen(comune string, t time.Time) time.Time {
	s := h.scheduleFor(comune)
	local := t.In(h.loc)
	if s.openAt(local) {
		return t
	}
	y, m, d := local.Date()
	// Every 7 consecutive days hold each open weekday, and each holiday can push past at most one
	// of them: the answer lies within this many days, if it exists.
	limit := 7 * (len(s.holidays) + len(s.rules) + 2)
	for i := 0; i <= limit; i++ {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, h.loc) // noon: clear of any DST jump
		dy, dm, dd := day.Date()
		if !s.days[day.Weekday()] || s.holiday(dy, dm, dd) {
			continue
		}
		opening := time.Date(dy, dm, dd, s.open/60, s.open%60, 0, 0, h.loc)
		if opening.After(t) {
			return opening
		}
	}
	return time.Time{}
}

var (
	dayNamesIT = [7]string{"domenica", "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"}
	dayNamesEN = [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	// Monday first, as Italians (and ISO) count the week.
	weekOrder = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
)

// Describe words the comune's hours for prompts and automatic answers: "dal lunedì al sabato
// dalle 8:00 alle 20:00" for lang "it" (and any language but English), "Monday to Saturday, 8:00
// to 20:00" for "en" (or "en-GB" and the like). Holidays are not listed.
func (h *Hours) Describe(comune, lang string) string {
	s := h.scheduleFor(comune)
	en := strings.HasPrefix(strings.ToLower(lang), "en")
	var runs [][2]int // index ranges into weekOrder
	for i := 0; i < 7; i++ {
		if !s.days[weekOrder[i]] {
			continue
		}
		if n := len(runs); n > 0 && runs[n-1][1] == i-1 {
			runs[n-1][1] = i
		} else {
			runs = append(runs, [2]int{i, i})
		}
	}
	if len(runs) == 0 {
		if en {
			return "closed"
		}
		return "chiuso"
	}
	open, close := clock(s.open), clock(s.close)
	if en {
		return describeEN(runs) + ", " + open + " to " + close
	}
	return describeIT(runs) + " " + fromIT(s.open) + open + " " + toIT(s.close) + close
}

func describeEN(runs [][2]int) string {
	if len(runs) == 1 && runs[0] == [2]int{0, 6} {
		return "every day"
	}
	var parts []string
	for _, r := range runs {
		from, to := dayNamesEN[weekOrder[r[0]]], dayNamesEN[weekOrder[r[1]]]
		switch r[1] - r[0] {
		case 0:
			parts = append(parts, from)
		case 1:
			parts = append(parts, from, to)
		default:
			parts = append(parts, from+" to "+to)
		}
	}
	return joinList(parts, "and")
}

func describeIT(runs [][2]int) string {
	if len(runs) == 1 && runs[0] == [2]int{0, 6} {
		return "tutti i giorni"
	}
	var parts []string
	for _, r := range runs {
		from, to := weekOrder[r[0]], weekOrder[r[1]]
		switch r[1] - r[0] {
		case 0:
			parts = append(parts, dayNamesIT[from])
		case 1:
			parts = append(parts, dayNamesIT[from], dayNamesIT[to])
		default:
			// Domenica is feminine: "dal venerdì alla domenica". A run never starts on Sunday,
			// the last day of the week.
			al := "al "
			if to == time.Sunday {
				al = "alla "
			}
			parts = append(parts, "dal "+dayNamesIT[from]+" "+al+dayNamesIT[to])
		}
	}
	return joinList(parts, "e")
}

func joinList(parts []string, and string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " " + and + " " + parts[len(parts)-1]
}

func clock(minutes int) string { return fmt.Sprintf("%d:%02d", minutes/60, minutes%60) }

// fromIT and toIT elide before "1" ("dall'1:00", "all'1:00"), the only hour read with a vowel.
func fromIT(minutes int) string {
	if minutes/60 == 1 {
		return "dall'"
	}
	return "dalle "
}

func toIT(minutes int) string {
	if minutes/60 == 1 {
		return "all'"
	}
	return "alle "
}
