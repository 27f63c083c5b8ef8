package desk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/router"
	"github.com/sportello/sportello/store"
)

// ComuneCalendar is a comune's business hours and holidays as the API shows them: Edited
// says an admin's calendar is stored (else the config's is in force, unseeded), Upcoming lists
// the holidays of the next twelve months with their dates (Easter Monday computed).
type ComuneCalendar struct {
	Comune string `json:"comune"`
	router.Calendar
	Edited    bool              `json:"edited"`
	UpdatedAt *time.Time        `json:"updated_at"`
	Upcoming  []UpcomingHoliday `json:"upcoming"`
}

// UpcomingHoliday is one date a holiday falls on.
type UpcomingHoliday struct {
	Date string `json:"date"`
	Name string `json:"name"`
}

func calendarOf(h store.ComuneHours) router.Calendar {
	cal := router.Calendar{Days: h.Days, Open: h.Open, Close: h.Close, Holidays: make([]router.NamedHoliday, 0, len(h.Holidays))}
	for _, hd := range h.Holidays {
		cal.Holidays = append(cal.Holidays, router.NamedHoliday{Rule: hd.Rule, Name: hd.Name})
	}
	return cal
}

// StoredCalendars is a router.CalendarSource reading every calendar stored in s (the hours'
// source; the report command uses it too).
func StoredCalendars(s *store.Store) router.CalendarSource {
	return func(ctx context.Context) (map[string]router.Calendar, error) {
		all, err := s.AllComuneHours(ctx)
		if err != nil {
			return nil, err
		}
		out := make(map[string]router.Calendar, len(all))
		for comune, h := range all {
			out[comune] = calendarOf(h)
		}
		return out, nil
	}
}

// Calendar is a comune's calendar in force, for users whose scope holds the comune (404
// otherwise, and for an unknown comune).
func (d *Desk) Calendar(ctx context.Context, u store.User, comune string) (ComuneCalendar, error) {
	if _, ok := d.o.Config.ComuneByID(comune); !ok || !u.Scope().Allows(&comune) {
		return ComuneCalendar{}, notFound("comune")
	}
	all, err := d.o.Store.AllComuneHours(ctx)
	if err != nil {
		return ComuneCalendar{}, err
	}
	out := ComuneCalendar{Comune: comune, Calendar: router.Configured(d.o.Config, comune)}
	if h, ok := all[comune]; ok {
		out.Calendar, out.Edited = calendarOf(h), true
		at := h.UpdatedAt
		out.UpdatedAt = &at
	}
	out.Upcoming = d.upcoming(out.Calendar)
	return out, nil
}

// upcoming lists the holidays of the next twelve months, by date.
func (d *Desk) upcoming(cal router.Calendar) []UpcomingHoliday {
	out := []UpcomingHoliday{}
	today := d.now().In(d.hours.Location())
	start := time.Date(today.Year(), today.Month(), today.Day(), 12, 0, 0, 0, time.UTC)
	for i := range 366 {
		day := start.AddDate(0, 0, i)
		for _, hd := range cal.Holidays {
			r, err := router.ParseHolidayRule(hd.Rule)
			if err == nil && r.On(day.Year(), day.Month(), day.Day()) {
				out = append(out, UpcomingHoliday{Date: day.Format(time.DateOnly), Name: hd.Name})
			}
		}
	}
	return out
}

// SetCalendar replaces a comune's calendar (admins: the route checks the role), audited; the
// hours of this replica follow at once, the other replicas' when the announced edit reaches them
// (FollowCalendarEdits), at the latest within router.DefaultCalendarTTL.
func (d *Desk) SetCalendar(ctx context.Context, u store.User, comune string, cal router.Calendar) (ComuneCalendar, error) {
	if _, ok := d.o.Config.ComuneByID(comune); !ok || !u.Scope().Allows(&comune) {
		return ComuneCalendar{}, notFound("comune")
	}
	if !u.AtLeast(store.RoleAdmin) {
		return ComuneCalendar{}, forbidden("business hours are changed by admins")
	}
	h := store.ComuneHours{Comune: comune, Open: strings.TrimSpace(cal.Open), Close: strings.TrimSpace(cal.Close)}
	for _, day := range cal.Days {
		day = strings.ToLower(strings.TrimSpace(day))
		if !slices.Contains(h.Days, day) {
			h.Days = append(h.Days, day)
		}
	}
	seen := map[string]bool{}
	for _, hd := range cal.Holidays {
		r, err := router.ParseHolidayRule(hd.Rule)
		if err != nil {
			return ComuneCalendar{}, badRequest("invalid_holiday", "%s", err.Error())
		}
		rule := r.String() // one spelling per rule, so the same day is stored once
		if seen[rule] {
			continue
		}
		seen[rule] = true
		name := strings.TrimSpace(hd.Name)
		if len(name) > 200 {
			return ComuneCalendar{}, badRequest("invalid_holiday", "the name of holiday %s is longer than 200 characters", rule)
		}
		h.Holidays = append(h.Holidays, store.Holiday{Rule: rule, Name: name})
	}
	if len(h.Holidays) > 200 {
		return ComuneCalendar{}, badRequest("invalid_holiday", "at most 200 holidays")
	}
	if err := router.CheckCalendar(calendarOf(h)); err != nil {
		return ComuneCalendar{}, badRequest("invalid_hours", "%s", strings.TrimPrefix(err.Error(), "router: "))
	}
	err := d.o.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		before := "configured"
		if old, err := d.o.Store.ComuneHoursTx(ctx, tx, comune); err == nil {
			before = calendarSummary(old)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if _, err := d.o.Store.PutComuneHoursTx(ctx, tx, h); err != nil {
			return err
		}
		return d.o.Store.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: AuditHoursUpdate, Target: comune, Comune: comune,
			Detail: calendarSummary(h) + " was: " + before})
	})
	if err != nil {
		return ComuneCalendar{}, err
	}
	d.hours.Invalidate()
	if err := d.o.Events.Publish(context.WithoutCancel(ctx), events.Event{Type: events.CalendarChanged, Comune: comune}); err != nil {
		// The other replicas follow within router.DefaultCalendarTTL anyway.
		d.o.Logger.Warn("announcing a calendar edit failed", "comune", comune, "err", err)
	}
	return d.Calendar(ctx, u, comune)
}

// FollowCalendarEdits reads the calendars again whenever an edit is announced on any replica
// (events.CalendarChanged), until ctx ends or sub closes (a gateway service).
func (d *Desk) FollowCalendarEdits(ctx context.Context, sub <-chan events.Event) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-sub:
			if !ok {
				return nil
			}
			if e.Type == events.CalendarChanged {
				d.hours.Invalidate()
			}
		}
	}
}

func calendarSummary(h store.ComuneHours) string {
	rules := make([]string, len(h.Holidays))
	for i, hd := range h.Holidays {
		rules[i] = hd.Rule
	}
	return fmt.Sprintf("days=%s open=%s close=%s holidays=%s", strings.Join(h.Days, ","), h.Open, h.Close, strings.Join(rules, ","))
}

// SeedCalendars stores each configured comune's calendar the first time the gateway starts
// with it: its configured hours and holidays, the Italian public holidays (unless
// business_hours.public_holidays is false) and its patron saint's day. A stored calendar is
// never overwritten: from then on admins edit it.
func (d *Desk) SeedCalendars(ctx context.Context) error {
	seeded := false
	for _, cm := range d.o.Config.Comuni {
		cal := router.Configured(d.o.Config, cm.ID)
		h := store.ComuneHours{Comune: cm.ID, Days: cal.Days, Open: cal.Open, Close: cal.Close}
		if d.o.Config.PublicHolidaysFor(cm.ID) {
			for _, hd := range router.ItalianHolidays() {
				h.Holidays = append(h.Holidays, store.Holiday{Rule: hd.Rule, Name: hd.Name})
			}
		}
		if cm.Patron.Day != "" {
			name := cm.Patron.Name
			if name == "" {
				name = "Santo patrono"
			}
			h.Holidays = append(h.Holidays, store.Holiday{Rule: cm.Patron.Day, Name: name})
		}
		for _, hd := range cal.Holidays {
			h.Holidays = append(h.Holidays, store.Holiday{Rule: hd.Rule})
		}
		err := d.o.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			ok, err := d.o.Store.SeedComuneHoursTx(ctx, tx, h)
			seeded = seeded || ok
			return err
		})
		if err != nil {
			return fmt.Errorf("desk: seeding the calendar of %s: %w", cm.ID, err)
		}
	}
	if seeded {
		d.hours.Invalidate()
	}
	return nil
}
