package reports_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sportello/sportello/reports"
	"github.com/sportello/sportello/store"
)

// FuzzQueryParameters feeds the reports' query parameters (from, to, comune, target_seconds,
// target_level) as a client may send them: each is accepted with a sane range or refused with a
// RangeError or ErrOutOfScope, never a panic or another error.
func FuzzQueryParameters(f *testing.F) {
	for _, s := range [][5]string{
		{"2026-02-01", "2026-02-28", "", "20", "0.8"},
		{"", "", "firenze", "", ""},
		{"2026-02-30", "2026-03-01", "atlantide", "0", "1"},
		{"1900-01-01", "9999-12-31", "none", "3600", "0.999999"},
		{"2026-1-1", "2026-01-01T00:00:00Z", "Firenze", "20s", "NaN"},
		{"2026-03-29", "2026-03-28", "empoli", "-1", "1e-9"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	svc, err := reports.New(reports.Options{Store: &store.Store{}, Config: demoConfig(f), Now: func() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, from, to, comune, seconds, level string) {
		var re *reports.RangeError
		q, err := svc.NewQuery(from, to, comune, []string{"firenze", "empoli"})
		switch {
		case err == nil:
			if q.To.String() < q.From.String() || (comune != "" && comune != "firenze" && comune != "empoli") {
				t.Fatalf("accepted %q..%q comune %q as %s..%s", from, to, comune, q.From, q.To)
			}
		case errors.As(err, &re), errors.Is(err, reports.ErrOutOfScope):
		default:
			t.Fatalf("unexpected error %v", err)
		}
		tg, err := svc.ParseTarget(seconds, level)
		if err == nil && (tg.Seconds < 1 || tg.Seconds > 3600 || !(tg.Level > 0 && tg.Level < 1)) {
			t.Fatalf("accepted target %q %q as %+v", seconds, level, tg)
		}
		if err != nil && !errors.As(err, &re) {
			t.Fatalf("unexpected target error %v", err)
		}
	})
}
