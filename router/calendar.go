package router

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sportello/sportello/config"
)

// Calendar is one comune's business hours and holidays as edited by an admin: Days are mon..sun,
// Open and Close HH:MM, Holidays rules ParseHolidayRule reads.
type Calendar struct {
	Days     []string       `json:"days"`
	Open     string         `json:"open"`
	Close    string         `json:"close"`
	Holidays []NamedHoliday `json:"holidays"`
}

// CalendarSource reads the edited calendars, by comune (the gateway reads them from the store).
type CalendarSource func(ctx context.Context) (map[string]Calendar, error)

// DefaultCalendarTTL is how long edited calendars are trusted before they are read again: an
// edit made on another replica takes effect within it.
const DefaultCalendarTTL = 5 * time.Second

type calendarSource struct {
	read   CalendarSource
	ttl    time.Duration
	logger *slog.Logger
	mu     sync.Mutex // one reader at a time; the others wait for its answer
}

type editedCalendars struct {
	byComune map[string]*schedule
	read     time.Time
}

// SetSource makes the hours follow calendars edited in the database: they win over the
// configured ones, and are read again once ttl has passed (DefaultCalendarTTL when 0) or after
// Invalidate. A failed read keeps the calendars read before (logged). Call it before the hours
// are shared.
func (h *Hours) SetSource(read CalendarSource, ttl time.Duration, logger *slog.Logger) {
	if ttl <= 0 {
		ttl = DefaultCalendarTTL
	}
	if logger == nil {
		logger = slog.Default()
	}
	h.source = &calendarSource{read: read, ttl: ttl, logger: logger}
}

// Invalidate makes the next question read the calendars again (after an edit on this replica).
func (h *Hours) Invalidate() {
	if h.source == nil {
		return
	}
	h.source.mu.Lock()
	defer h.source.mu.Unlock()
	if e := h.edited.Load(); e != nil {
		h.edited.Store(&editedCalendars{byComune: e.byComune})
	}
}

// current is the edited calendars, read again when stale; nil without a source or before the
// first successful read.
func (h *Hours) current() *editedCalendars {
	if h.source == nil {
		return nil
	}
	e := h.edited.Load()
	if e != nil && time.Since(e.read) < h.source.ttl {
		return e
	}
	src := h.source
	src.mu.Lock()
	defer src.mu.Unlock()
	if e = h.edited.Load(); e != nil && time.Since(e.read) < src.ttl {
		return e // another caller read them while this one waited
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cals, err := src.read(ctx)
	if err != nil {
		src.logger.Error("reading the edited business hours failed: using the ones read before", "err", err)
		if e != nil {
			// Try again after another ttl, not on every question.
			h.edited.Store(&editedCalendars{byComune: e.byComune, read: time.Now()})
		}
		return e
	}
	next := &editedCalendars{byComune: make(map[string]*schedule, len(cals)), read: time.Now()}
	for comune, cal := range cals {
		s, err := compileCalendar(cal)
		if err != nil {
			// Stored calendars are checked before they are written: this one is damaged.
			src.logger.Error("an edited calendar does not read: using the configured hours", "comune", comune, "err", err)
			continue
		}
		next.byComune[comune] = s
	}
	h.edited.Store(next)
	return next
}

// CheckCalendar reports what is wrong with a calendar (a *HoursError or *HolidayRuleError).
func CheckCalendar(cal Calendar) error {
	_, err := compileCalendar(cal)
	return err
}

// compileCalendar reads a calendar into a schedule.
func compileCalendar(cal Calendar) (*schedule, error) {
	s, err := compileHours("hours", configHours(cal))
	if err != nil {
		return nil, err
	}
	for _, hd := range cal.Holidays {
		r, err := ParseHolidayRule(hd.Rule)
		if err != nil {
			return nil, err
		}
		s.rules = append(s.rules, r)
	}
	return &s, nil
}

// Closed reports whether the comune's desk (the centre's when comune is "") stays closed the
// whole of a local date: a weekday it does not open, or a holiday.
func (h *Hours) Closed(comune string, year int, month time.Month, day int) bool {
	s := h.scheduleFor(comune)
	wd := time.Date(year, month, day, 12, 0, 0, 0, time.UTC).Weekday()
	return !s.days[wd] || s.holiday(year, month, day)
}

func configHours(cal Calendar) config.BusinessHours {
	return config.BusinessHours{Days: cal.Days, Open: cal.Open, Close: cal.Close}
}

// Configured is a comune's calendar as the config file gives it (the centre's hours unless the
// comune has its own, and the dated holidays), the default an edited calendar starts from.
func Configured(cfg *config.Config, comune string) Calendar {
	bh := cfg.HoursFor(comune)
	cal := Calendar{Days: append([]string(nil), bh.Days...), Open: bh.Open, Close: bh.Close, Holidays: []NamedHoliday{}}
	for _, d := range bh.Holidays {
		cal.Holidays = append(cal.Holidays, NamedHoliday{Rule: d})
	}
	return cal
}
