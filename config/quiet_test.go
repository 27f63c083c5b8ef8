package config

import (
	"testing"
	"time"
)

func TestParseQuietHours(t *testing.T) {
	for _, c := range []struct {
		in       string
		from, to int
		off, bad bool
	}{
		{in: "21:00-08:00", from: 21 * 60, to: 8 * 60},
		{in: " 13:30 - 14:00 ", from: 13*60 + 30, to: 14 * 60},
		{in: "off", off: true},
		{in: "OFF", off: true},
		{in: "21:00", bad: true},
		{in: "25:00-08:00", bad: true},
		{in: "21:00-8:00", bad: true},
		{in: "08:00-08:00", bad: true},
		{in: "", bad: true},
	} {
		q, err := ParseQuietHours(c.in)
		if (err != nil) != c.bad || (!c.bad && (q.From != c.from || q.To != c.to || q.Off != c.off)) {
			t.Errorf("ParseQuietHours(%q) = %+v, %v", c.in, q, err)
		}
	}
}

func TestQuietHoursUntil(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	night, _ := ParseQuietHours("21:00-08:00")
	lunch, _ := ParseQuietHours("13:00-14:00")
	at := func(s string) time.Time {
		tt, err := time.ParseInLocation("2006-01-02 15:04", s, rome)
		if err != nil {
			t.Fatal(err)
		}
		return tt
	}
	for _, c := range []struct {
		q    QuietHours
		now  string
		want string // "" = not quiet
	}{
		{night, "2026-11-30 03:00", "2026-11-30 08:00"},
		{night, "2026-11-30 23:59", "2026-12-01 08:00"},
		{night, "2026-11-30 21:00", "2026-12-01 08:00"},
		{night, "2026-11-30 08:00", ""},
		{night, "2026-11-30 20:59", ""},
		{night, "2026-11-30 12:00", ""},
		// The night the clocks go forward (29 March 2026): the window still ends at 08:00 local.
		{night, "2026-03-28 23:00", "2026-03-29 08:00"},
		{lunch, "2026-11-30 13:15", "2026-11-30 14:00"},
		{lunch, "2026-11-30 14:00", ""},
		{QuietHours{Off: true}, "2026-11-30 03:00", ""},
	} {
		end, in := c.q.Until(at(c.now), rome)
		if c.want == "" {
			if in {
				t.Errorf("%+v at %s: quiet until %s, want not quiet", c.q, c.now, end)
			}
			continue
		}
		if !in || !end.Equal(at(c.want)) {
			t.Errorf("%+v at %s: %s %v, want %s", c.q, c.now, end.In(rome), in, c.want)
		}
	}
}

// FuzzParseQuietHours: any text is read or refused, never a panic; what is read is a
// non-empty window of real minutes whose end is always after the moment asked about.
func FuzzParseQuietHours(f *testing.F) {
	for _, s := range []string{"21:00-08:00", "off", "13:00-14:00", "23:59-00:00", "-", "21:00-", "aa:bb-cc:dd"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 30, 22, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuietHours(s)
		if err != nil || q.Off {
			return
		}
		if q.From < 0 || q.From >= 24*60 || q.To < 0 || q.To >= 24*60 || q.From == q.To {
			t.Fatalf("%q read as %+v", s, q)
		}
		if end, in := q.Until(now, time.UTC); in && !end.After(now) {
			t.Fatalf("%q: the window ends at %s, not after %s", s, end, now)
		}
	})
}
