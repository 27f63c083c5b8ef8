package router

import (
	"errors"
	"testing"
	"time"

	"github.com/sportello/sportello/config"
)

func hoursConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg := demoConfig(t)
	cfg.BusinessHours.Holidays = []string{"2026-12-25", "2026-12-26"}
	for i := range cfg.Comuni {
		if cfg.Comuni[i].ID == "empoli" {
			cfg.Comuni[i].BusinessHours = &config.BusinessHours{
				Days: []string{"mon", "tue", "wed", "fri"}, Open: "09:00", Close: "13:30", Holidays: []string{"2026-11-30"},
			}
		}
	}
	return cfg
}

func newHours(t testing.TB, cfg *config.Config) *Hours {
	t.Helper()
	h, err := NewHours(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func rome(t testing.TB, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func utc(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenBoundaries(t *testing.T) {
	h := newHours(t, hoursConfig(t))
	for _, tc := range []struct {
		comune string
		at     time.Time
		want   bool
	}{
		{"firenze", rome(t, "2026-11-27 07:59:59"), false}, // a Friday
		{"firenze", rome(t, "2026-11-27 08:00:00"), true},
		{"firenze", rome(t, "2026-11-27 19:59:59"), true},
		{"firenze", rome(t, "2026-11-27 20:00:00"), false},
		{"firenze", rome(t, "2026-11-28 12:00:00"), true},  // Saturday
		{"firenze", rome(t, "2026-11-29 12:00:00"), false}, // Sunday
		{"firenze", rome(t, "2026-12-25 12:00:00"), false}, // a holiday, a Friday
		{"firenze", rome(t, "2026-12-24 12:00:00"), true},
		{"", rome(t, "2026-11-27 12:00:00"), true},         // unknown comune: the centre's hours
		{"nowhere", rome(t, "2026-11-27 21:00:00"), false}, // likewise
		// The same instant written in UTC: 07:30Z is 08:30 in Rome in winter.
		{"firenze", utc(t, "2026-11-27T07:30:00Z"), true},
		{"firenze", utc(t, "2026-11-27T06:59:00Z"), false},
		// Empoli's own hours: mon, tue, wed, fri 9:00-13:30, and its own holiday.
		{"empoli", rome(t, "2026-11-27 13:29:59"), true},
		{"empoli", rome(t, "2026-11-27 13:30:00"), false},
		{"empoli", rome(t, "2026-11-26 10:00:00"), false}, // Thursday
		{"empoli", rome(t, "2026-11-28 10:00:00"), false}, // Saturday: the centre's day, not Empoli's
		{"empoli", rome(t, "2026-11-30 10:00:00"), false}, // Empoli's holiday
		{"empoli", rome(t, "2026-12-25 10:00:00"), true},  // the centre's holiday is not Empoli's
	} {
		if got := h.Open(tc.comune, tc.at); got != tc.want {
			t.Errorf("Open(%q, %v) = %v, want %v", tc.comune, tc.at, got, tc.want)
		}
	}
}

func TestOpenAcrossDaylightSavingChanges(t *testing.T) {
	h := newHours(t, hoursConfig(t))
	// 29 March 2026: clocks go from 2:00 CET to 3:00 CEST. Opening stays at 8:00 on the wall.
	for _, tc := range []struct {
		at   string
		want bool
	}{
		{"2026-03-28T06:59:59Z", false}, // Saturday 7:59:59 CET
		{"2026-03-28T07:00:00Z", true},  // Saturday 8:00 CET
		{"2026-03-28T18:59:59Z", true},
		{"2026-03-28T19:00:00Z", false}, // Saturday 20:00 CET
		{"2026-03-29T10:00:00Z", false}, // the Sunday of the change
		{"2026-03-30T05:59:59Z", false}, // Monday 7:59:59 CEST
		{"2026-03-30T06:00:00Z", true},  // Monday 8:00 CEST, an hour earlier in UTC than a week before
		{"2026-03-23T06:00:00Z", false}, // Monday 7:00 CET
		{"2026-03-30T17:59:59Z", true},
		{"2026-03-30T18:00:00Z", false}, // Monday 20:00 CEST
		// 25 October 2026: clocks go from 3:00 CEST back to 2:00 CET.
		{"2026-10-24T05:59:59Z", false}, // Saturday 7:59:59 CEST
		{"2026-10-24T06:00:00Z", true},
		{"2026-10-26T06:30:00Z", false}, // Monday 7:30 CET
		{"2026-10-26T07:00:00Z", true},  // Monday 8:00 CET
	} {
		if got := h.Open("firenze", utc(t, tc.at)); got != tc.want {
			t.Errorf("Open(%s) = %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestNextOpen(t *testing.T) {
	h := newHours(t, hoursConfig(t))
	for _, tc := range []struct {
		comune   string
		from     time.Time
		want     time.Time
		wantDesc string
	}{
		{"firenze", rome(t, "2026-11-27 12:00:00"), rome(t, "2026-11-27 12:00:00"), "open now: itself"},
		{"firenze", rome(t, "2026-11-27 06:10:00"), rome(t, "2026-11-27 08:00:00"), "before opening"},
		{"firenze", rome(t, "2026-11-27 20:00:00"), rome(t, "2026-11-28 08:00:00"), "at closing"},
		{"firenze", rome(t, "2026-11-28 20:30:00"), rome(t, "2026-11-30 08:00:00"), "Saturday night to Monday"},
		{"firenze", rome(t, "2026-12-24 21:00:00"), rome(t, "2026-12-28 08:00:00"), "over two holidays and a Sunday"},
		{"firenze", utc(t, "2026-03-28T19:00:00Z"), utc(t, "2026-03-30T06:00:00Z"), "across the spring change: 35 hours"},
		{"firenze", utc(t, "2026-10-24T18:00:00Z"), utc(t, "2026-10-26T07:00:00Z"), "across the autumn change: 37 hours"},
		{"empoli", rome(t, "2026-11-25 14:00:00"), rome(t, "2026-11-27 09:00:00"), "Empoli skips Thursday"},
		{"empoli", rome(t, "2026-11-27 14:00:00"), rome(t, "2026-12-01 09:00:00"), "Empoli skips the weekend and its holiday"},
	} {
		if got := h.NextOpen(tc.comune, tc.from); !got.Equal(tc.want) {
			t.Errorf("%s: NextOpen(%q, %v) = %v, want %v", tc.wantDesc, tc.comune, tc.from, got, tc.want)
		}
	}

	cfg := hoursConfig(t)
	cfg.Comuni[0].BusinessHours = &config.BusinessHours{Open: "08:00", Close: "09:00"}
	if got := newHours(t, cfg).NextOpen(cfg.Comuni[0].ID, rome(t, "2026-11-27 12:00:00")); !got.IsZero() {
		t.Errorf("no open days: NextOpen = %v, want zero", got)
	}
}

func TestDescribe(t *testing.T) {
	h := newHours(t, hoursConfig(t))
	for _, tc := range []struct{ comune, lang, want string }{
		{"firenze", "it", "dal lunedì al sabato dalle 8:00 alle 20:00"},
		{"firenze", "en", "Monday to Saturday, 8:00 to 20:00"},
		{"firenze", "en-GB", "Monday to Saturday, 8:00 to 20:00"},
		{"firenze", "", "dal lunedì al sabato dalle 8:00 alle 20:00"},
		{"empoli", "it", "dal lunedì al mercoledì e venerdì dalle 9:00 alle 13:30"},
		{"empoli", "en", "Monday to Wednesday and Friday, 9:00 to 13:30"},
	} {
		if got := h.Describe(tc.comune, tc.lang); got != tc.want {
			t.Errorf("Describe(%q, %q) = %q, want %q", tc.comune, tc.lang, got, tc.want)
		}
	}
	for _, tc := range []struct {
		days        []string
		open, close string
		it, en      string
	}{
		{[]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, "00:00", "23:59", "tutti i giorni dalle 0:00 alle 23:59", "every day, 0:00 to 23:59"},
		{[]string{"fri", "sat", "sun"}, "01:00", "13:00", "dal venerdì alla domenica dall'1:00 alle 13:00", "Friday to Sunday, 1:00 to 13:00"},
		{[]string{"sat", "sun"}, "10:00", "11:00", "sabato e domenica dalle 10:00 alle 11:00", "Saturday and Sunday, 10:00 to 11:00"},
		{[]string{"mon", "wed", "fri"}, "08:30", "12:30", "lunedì, mercoledì e venerdì dalle 8:30 alle 12:30", "Monday, Wednesday and Friday, 8:30 to 12:30"},
		{[]string{"Thu"}, "00:30", "01:45", "giovedì dalle 0:30 all'1:45", "Thursday, 0:30 to 1:45"},
		{nil, "08:00", "09:00", "chiuso", "closed"},
	} {
		cfg := hoursConfig(t)
		cfg.BusinessHours = config.BusinessHours{Days: tc.days, Open: tc.open, Close: tc.close}
		h := newHours(t, cfg)
		if got := h.Describe("firenze", "it"); got != tc.it {
			t.Errorf("%v it: %q, want %q", tc.days, got, tc.it)
		}
		if got := h.Describe("firenze", "EN"); got != tc.en {
			t.Errorf("%v en: %q, want %q", tc.days, got, tc.en)
		}
	}
}

func TestNewHoursRejectsBadHours(t *testing.T) {
	for key, bh := range map[string]config.BusinessHours{
		"business_hours.days":     {Days: []string{"lun"}, Open: "08:00", Close: "20:00"},
		"business_hours.open":     {Open: "8", Close: "20:00"},
		"business_hours.close":    {Open: "20:00", Close: "08:00"},
		"business_hours.holidays": {Open: "08:00", Close: "20:00", Holidays: []string{"25/12/2026"}},
	} {
		_, err := NewHours(&config.Config{BusinessHours: bh})
		var he *HoursError
		if !errors.As(err, &he) || he.Key != key {
			t.Errorf("%+v: error %v, want an *HoursError for %s", bh, err, key)
		}
	}
	if _, err := NewHours(&config.Config{Timezone: "Mars/Olympus", BusinessHours: config.BusinessHours{Open: "08:00", Close: "20:00"}}); err == nil {
		t.Error("an unknown time zone is an error")
	}
}
