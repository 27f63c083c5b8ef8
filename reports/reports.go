// Package reports computes the figures a contact centre is run by (contract section 7): the
// summary of a range of days (volumes by channel, comune and category, outcomes, calls offered,
// answered and abandoned with their waits, talk times and service level, first response
// times), the contacts one by one as CSV, and the Erlang C staffing answer per weekday and hour.
// Days are calendar days in the configured time zone; a contact counts on the local day of its
// arrival. The SQL is in store/reportstore.
package reports

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/reportstore"
)

// ErrOutOfScope is a comune the caller may not see (or that does not exist): callers answer 404.
var ErrOutOfScope = errors.New("reports: comune outside the caller's scope")

// RangeError is a bad from/to.
type RangeError struct{ Reason string }

func (e *RangeError) Error() string { return "reports: " + e.Reason }

// MaxDays bounds a range: ten years.
const MaxDays = 3660

// Service computes reports from the store.
type Service struct {
	store    *reportstore.Store
	cfg      *config.Config
	now      func() time.Time
	calendar Calendar
}

// Calendar says which days a desk stayed closed (router.Hours, following the calendars admins
// edit).
type Calendar interface {
	Closed(comune string, year int, month time.Month, day int) bool
}

// Options configure a Service.
type Options struct {
	Store  *store.Store
	Config *config.Config
	// Now is the clock (default time.Now); it decides the default range, the current month.
	Now func() time.Time
	// Calendar marks the days the desk was closed; nil marks none.
	Calendar Calendar
}

// New builds a Service.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Config == nil || o.Config.Location == nil {
		return nil, errors.New("reports: a store and a validated config are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{store: reportstore.New(o.Store), cfg: o.Config, now: o.Now, calendar: o.Calendar}, nil
}

// Location is the time zone the days are counted in.
func (s *Service) Location() *time.Location { return s.cfg.Location }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Query is what a report covers: local days From..To inclusive, the comuni the caller may see
// (nil: all, contacts without a comune included) and the comune asked for ("" = all of them).
type Query struct {
	From, To Day
	Scope    []string
	Comune   string
	// TargetSeconds of the service level (0: the configured reports.target_seconds).
	TargetSeconds int
}

// Day is a calendar date.
type Day struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDay reads YYYY-MM-DD.
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Day{}, &RangeError{Reason: fmt.Sprintf("%q is not a date (YYYY-MM-DD)", s)}
	}
	return DayOf(t), nil
}

// DayOf is the calendar date of t in t's own location.
func DayOf(t time.Time) Day {
	y, m, d := t.Date()
	return Day{y, m, d}
}

func (d Day) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Start is the day's first instant in loc.
func (d Day) Start(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// number counts the days from 1970-01-01 to d: reportstore's local day numbers.
func (d Day) number() int64 {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix() / (24 * 60 * 60)
}

// AddDays is the date n days later.
func (d Day) AddDays(n int) Day {
	return DayOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// Weekday of the date.
func (d Day) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

func (d Day) before(o Day) bool {
	return d.Year < o.Year || d.Year == o.Year && (d.Month < o.Month || d.Month == o.Month && d.Day < o.Day)
}

// NewQuery reads from and to (YYYY-MM-DD, either may be empty: the current month's first and
// last day) and checks the comune against the scope.
func (s *Service) NewQuery(from, to, comune string, scope []string) (Query, error) {
	today := DayOf(s.now().In(s.cfg.Location))
	first := Day{today.Year, today.Month, 1}
	q := Query{From: first, To: first.AddDays(32), Scope: scope, Comune: comune}
	q.To = Day{q.To.Year, q.To.Month, 1}.AddDays(-1)
	var err error
	if from != "" {
		if q.From, err = ParseDay(from); err != nil {
			return q, err
		}
	}
	if to != "" {
		if q.To, err = ParseDay(to); err != nil {
			return q, err
		}
	}
	if q.To.before(q.From) {
		return q, &RangeError{Reason: fmt.Sprintf("to (%s) is before from (%s)", q.To, q.From)}
	}
	if q.From.AddDays(MaxDays).before(q.To) {
		return q, &RangeError{Reason: fmt.Sprintf("a report covers at most %d days", MaxDays)}
	}
	if comune != "" {
		if !s.knownComune(comune) || (scope != nil && !slices.Contains(scope, comune)) {
			return q, ErrOutOfScope
		}
	}
	return q, nil
}

func (s *Service) knownComune(id string) bool {
	for _, c := range s.cfg.Comuni {
		if c.ID == id {
			return true
		}
	}
	return false
}

// comuni is the list of comuni the query reads (nil: every contact).
func (q Query) comuni() []string {
	if q.Comune != "" {
		return []string{q.Comune}
	}
	return q.Scope
}

func (s *Service) filter(q Query) reportstore.Filter {
	return reportstore.Filter{
		From:          store.Micros(q.From.Start(s.cfg.Location)),
		To:            store.Micros(q.To.AddDays(1).Start(s.cfg.Location)),
		Comuni:        q.comuni(),
		TargetSeconds: s.target(q),
	}
}

func (s *Service) target(q Query) int {
	if q.TargetSeconds > 0 {
		return q.TargetSeconds
	}
	return s.cfg.Reports.TargetSeconds
}

// days lists the query's dates in order.
func (q Query) days() []Day {
	var out []Day
	for d := q.From; !q.To.before(d); d = d.AddDays(1) {
		out = append(out, d)
	}
	return out
}
