package router

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestEaster(t *testing.T) {
	// Easter Sundays from published tables.
	want := map[int]string{1961: "04-02", 2000: "04-23", 2008: "03-23", 2011: "04-24", 2019: "04-21",
		2024: "03-31", 2025: "04-20", 2026: "04-05", 2027: "03-28", 2038: "04-25", 2285: "03-22"}
	for year, md := range want {
		m, d := Easter(year)
		if got := time.Date(year, m, d, 0, 0, 0, 0, time.UTC).Format("01-02"); got != md {
			t.Errorf("Easter(%d) = %s, want %s", year, got, md)
		}
	}
}

func TestHolidayRules(t *testing.T) {
	for _, c := range []struct {
		rule string
		on   []string
		off  []string
	}{
		{"12-25", []string{"2026-12-25", "2030-12-25"}, []string{"2026-12-24"}},
		{"2026-06-24", []string{"2026-06-24"}, []string{"2027-06-24"}},
		{"easter+1", []string{"2026-04-06", "2027-03-29", "2025-04-21"}, []string{"2026-04-05"}},
		{"Easter", []string{"2026-04-05"}, []string{"2026-04-06"}},
		{" 02-29 ", []string{"2028-02-29"}, []string{"2027-03-01"}},
	} {
		r, err := ParseHolidayRule(c.rule)
		if err != nil {
			t.Fatalf("%q: %v", c.rule, err)
		}
		if again, err := ParseHolidayRule(r.String()); err != nil || again != r {
			t.Errorf("%q does not survive String: %q %v", c.rule, r.String(), err)
		}
		for _, d := range c.on {
			day, _ := time.Parse("2006-01-02", d)
			if !r.On(day.Year(), day.Month(), day.Day()) {
				t.Errorf("%q is not on %s", c.rule, d)
			}
		}
		for _, d := range c.off {
			day, _ := time.Parse("2006-01-02", d)
			if r.On(day.Year(), day.Month(), day.Day()) {
				t.Errorf("%q is on %s", c.rule, d)
			}
		}
	}
	for _, bad := range []string{"", "13-01", "02-30", "2026-02-29", "easter-1", "easter+61", "easter+x", "easterx", "24/06", "2026-6-24"} {
		var re *HolidayRuleError
		if _, err := ParseHolidayRule(bad); !errors.As(err, &re) {
			t.Errorf("%q: got %v, want a HolidayRuleError", bad, err)
		}
	}
}

// The national holidays are Law 260/1949's list as amended, 4 October included from 2026
// (Law 151/2025), plus Easter Monday and Santo Stefano.
func TestItalianHolidaysRead(t *testing.T) {
	if err := CheckCalendar(Calendar{Days: []string{"mon"}, Open: "08:00", Close: "09:00", Holidays: ItalianHolidays()}); err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, h := range ItalianHolidays() {
		rules = append(rules, h.Rule)
	}
	want := []string{"01-01", "01-06", "easter+1", "04-25", "05-01", "06-02", "08-15", "10-04", "11-01", "12-08", "12-25", "12-26"}
	if !slices.Equal(rules, want) {
		t.Errorf("national holidays %v, want %v", rules, want)
	}
	francesco, err := ParseHolidayRule("10-04")
	if err != nil {
		t.Fatal(err)
	}
	if !francesco.On(2027, time.October, 4) {
		t.Error("4 October 2027 is not a holiday")
	}
}

// An edited calendar wins over the config, is read again after its TTL or Invalidate, and a
// failed read keeps the calendars read before.
func TestEditedCalendarFollowsSource(t *testing.T) {
	h := newHours(t, hoursConfig(t))
	var reads atomic.Int32
	cal := Calendar{Days: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, Open: "00:00", Close: "23:59"}
	var fail atomic.Bool
	h.SetSource(func(context.Context) (map[string]Calendar, error) {
		reads.Add(1)
		if fail.Load() {
			return nil, errors.New("database down")
		}
		return map[string]Calendar{"firenze": cal}, nil
	}, time.Hour, nil)
	sunday := rome(t, "2026-06-21 10:00:00")
	if !h.Open("firenze", sunday) {
		t.Fatal("the edited calendar opens on Sunday, the config does not: the edit must win")
	}
	if h.Open("sesto-fiorentino", sunday) {
		t.Fatal("a comune without an edited calendar keeps the configured hours")
	}
	h.Open("firenze", sunday)
	if n := reads.Load(); n != 1 {
		t.Fatalf("read %d times within the TTL, want 1", n)
	}
	cal.Holidays = []NamedHoliday{{Rule: "06-24", Name: "San Giovanni"}}
	h.Invalidate()
	if h.Open("firenze", rome(t, "2026-06-24 10:00:00")) || !h.Closed("firenze", 2026, time.June, 24) {
		t.Fatal("after Invalidate the new holiday must close the desk")
	}
	if h.Closed("firenze", 2026, time.June, 23) {
		t.Fatal("the day before San Giovanni is open")
	}
	fail.Store(true)
	h.Invalidate()
	if h.Open("firenze", rome(t, "2026-06-24 10:00:00")) {
		t.Fatal("a failed read must keep the calendars read before")
	}
	if n := reads.Load(); n != 3 {
		t.Fatalf("reads = %d, want 3", n)
	}
}

func FuzzParseHolidayRule(f *testing.F) {
	for _, s := range []string{"12-25", "2026-06-24", "easter+1", "easter", "02-29", "easter+", "13-45", "２０２６-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseHolidayRule(s)
		if err != nil {
			return
		}
		again, err := ParseHolidayRule(r.String())
		if err != nil || again != r {
			t.Fatalf("%q → %q does not read back: %v", s, r.String(), err)
		}
		for y := 2020; y < 2030; y++ {
			n := 0
			for d := time.Date(y, 1, 1, 12, 0, 0, 0, time.UTC); d.Year() == y; d = d.AddDate(0, 0, 1) {
				if r.On(d.Year(), d.Month(), d.Day()) {
					n++
				}
			}
			if n > 1 {
				t.Fatalf("%q falls on %d days of %d", s, n, y)
			}
		}
	})
}
