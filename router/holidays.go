package router

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// HolidayRule is a day the desk is closed: every year on a month and day ("12-25"), once on a
// date ("2026-12-24"), or a number of days after Easter Sunday ("easter+1", Easter Monday).
type HolidayRule struct {
	year  int // 0: every year
	month time.Month
	day   int
	// easter is set for rules relative to Easter; offset counts days after it.
	easter bool
	offset int
}

// HolidayRuleError is a holiday rule that cannot be read.
type HolidayRuleError struct {
	Rule   string
	Reason string
}

func (e *HolidayRuleError) Error() string {
	return fmt.Sprintf("router: holiday %q: %s", e.Rule, e.Reason)
}

// ParseHolidayRule reads MM-DD, YYYY-MM-DD or easter+N (N from 0 to 60; "easter" alone is 0).
func ParseHolidayRule(s string) (HolidayRule, error) {
	rule := strings.ToLower(strings.TrimSpace(s))
	if rest, ok := strings.CutPrefix(rule, "easter"); ok {
		if rest == "" {
			return HolidayRule{easter: true}, nil
		}
		n, err := strconv.Atoi(strings.TrimPrefix(rest, "+"))
		if err != nil || !strings.HasPrefix(rest, "+") || n < 0 || n > 60 {
			return HolidayRule{}, &HolidayRuleError{Rule: s, Reason: "write easter+N with N from 0 to 60 days after Easter Sunday"}
		}
		return HolidayRule{easter: true, offset: n}, nil
	}
	switch len(rule) {
	case len("01-02"):
		// Parsed in a leap year, so 02-29 is a valid yearly rule (it applies in leap years only).
		t, err := time.Parse("2006-01-02", "2024-"+rule)
		if err != nil {
			break
		}
		return HolidayRule{month: t.Month(), day: t.Day()}, nil
	case len("2006-01-02"):
		t, err := time.Parse("2006-01-02", rule)
		if err != nil {
			break
		}
		return HolidayRule{year: t.Year(), month: t.Month(), day: t.Day()}, nil
	}
	return HolidayRule{}, &HolidayRuleError{Rule: s, Reason: "use MM-DD (every year), YYYY-MM-DD (once) or easter+N"}
}

// String is the rule in the form ParseHolidayRule reads.
func (r HolidayRule) String() string {
	switch {
	case r.easter:
		return fmt.Sprintf("easter+%d", r.offset)
	case r.year != 0:
		return fmt.Sprintf("%04d-%02d-%02d", r.year, r.month, r.day)
	default:
		return fmt.Sprintf("%02d-%02d", r.month, r.day)
	}
}

// On reports whether the rule falls on the date.
func (r HolidayRule) On(year int, month time.Month, day int) bool {
	if r.easter {
		em, ed := Easter(year)
		t := time.Date(year, em, ed+r.offset, 12, 0, 0, 0, time.UTC)
		return t.Month() == month && t.Day() == day
	}
	return (r.year == 0 || r.year == year) && r.month == month && r.day == day
}

// Easter is the month and day of Easter Sunday in the Gregorian calendar (the anonymous
// Gregorian algorithm, also known as Meeus/Jones/Butcher).
func Easter(year int) (time.Month, int) {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Month(month), day
}

// NamedHoliday is a holiday rule with its name, as stored and shown.
type NamedHoliday struct {
	Rule string `json:"rule"`
	Name string `json:"name"`
}

// ItalianHolidays are the national public holidays (Law 260/1949 and later changes), Easter
// Monday included; a comune adds its patron saint's day.
func ItalianHolidays() []NamedHoliday {
	return []NamedHoliday{
		{"01-01", "Capodanno"},
		{"01-06", "Epifania"},
		{"easter+1", "Lunedì dell'Angelo (Pasquetta)"},
		{"04-25", "Festa della Liberazione"},
		{"05-01", "Festa del Lavoro"},
		{"06-02", "Festa della Repubblica"},
		{"08-15", "Assunzione (Ferragosto)"},
		// A national holiday from 2026: Law 151 of 8 October 2025 (Gazzetta Ufficiale 236 of
		// 10 October 2025) added it to Law 260/1949's list.
		{"10-04", "San Francesco d'Assisi, patrono d'Italia"},
		{"11-01", "Ognissanti"},
		{"12-08", "Immacolata Concezione"},
		{"12-25", "Natale"},
		{"12-26", "Santo Stefano"},
	}
}
