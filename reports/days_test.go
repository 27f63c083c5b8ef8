package reports_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sportello/sportello/reports"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// The store tells each contact's local day in SQL from the zone's offsets; the days, their
// channels and calls must be exactly those the zone gives each contact in Go, across every
// change of offset (summer time in Rome and New York, Lord Howe's half hour) and at midnight.
func TestSummaryDaysMatchTheZoneOverAYear(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		fixtures := aroundEveryChange(t)
		insertFixtures(t, st, fixtures)
		for _, zone := range []string{"Europe/Rome", "America/New_York", "Australia/Lord_Howe", "UTC"} {
			t.Run(zone, func(t *testing.T) {
				loc, err := time.LoadLocation(zone)
				if err != nil {
					t.Fatal(err)
				}
				cfg := demoConfig(t)
				cfg.Location = loc
				svc, err := reports.New(reports.Options{Store: st, Config: cfg, Now: func() time.Time { return time.Date(2026, 1, 10, 12, 0, 0, 0, loc) }})
				if err != nil {
					t.Fatal(err)
				}
				q := must[reports.Query](t)(svc.NewQuery("2025-01-01", "2025-12-31", "", nil))
				q.TargetSeconds = 20
				got, err := svc.Summary(context.Background(), q)
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]reports.DayFigures{}
				var calls reports.Calls
				var waitSum, waitCount, talkSum, talkCount int64
				for _, f := range fixtures {
					day := reports.DayOf(f.received.In(loc)).String()
					if day < "2025-01-01" || day > "2025-12-31" {
						continue
					}
					d := want[day]
					d.Contacts++
					if d.ByChannel == nil {
						d.ByChannel = map[string]int64{}
					}
					d.ByChannel[f.channel]++
					if f.channel == "phone" {
						d.CallsOffered++
						calls.Offered++
						switch f.result {
						case "abandoned":
							d.CallsAbandoned++
							calls.Abandoned++
						case "answered":
							d.CallsAnswered++
							calls.Answered++
							if f.wait >= 0 {
								waitSum += int64(f.wait)
								waitCount++
								if f.wait <= 20 {
									d.AnsweredWithinTarget++
									calls.AnsweredWithinTarget++
								}
							}
							if f.talk >= 0 {
								talkSum += int64(f.talk)
								talkCount++
							}
						}
					}
					want[day] = d
				}
				if len(got.ByDay) != 365 {
					t.Fatalf("%d days", len(got.ByDay))
				}
				var total int64
				for _, g := range got.ByDay {
					w := want[g.Date]
					total += w.Contacts
					if g.Contacts != w.Contacts || g.CallsOffered != w.CallsOffered || g.CallsAnswered != w.CallsAnswered ||
						g.CallsAbandoned != w.CallsAbandoned || g.AnsweredWithinTarget != w.AnsweredWithinTarget {
						t.Errorf("%s: got %+v, want %+v", g.Date, g, w)
					}
					for _, c := range reports.Channels {
						if g.ByChannel[c] != w.ByChannel[c] {
							t.Errorf("%s %s: %d, want %d", g.Date, c, g.ByChannel[c], w.ByChannel[c])
						}
					}
				}
				if got.Contacts.Total != total || total == 0 {
					t.Errorf("total %d, days add up to %d", got.Contacts.Total, total)
				}
				c := got.Calls
				if c.Offered != calls.Offered || c.Answered != calls.Answered || c.Abandoned != calls.Abandoned ||
					c.AnsweredWithinTarget != calls.AnsweredWithinTarget ||
					c.AvgWaitSeconds != reports.Round(float64(waitSum)/float64(waitCount), 2) ||
					c.AvgTalkSeconds != reports.Round(float64(talkSum)/float64(talkCount), 2) {
					t.Errorf("calls %+v, want %+v waits %d/%d talks %d/%d", c, calls, waitSum, waitCount, talkSum, talkCount)
				}
			})
		}
	})
}

// aroundEveryChange is 3,000 contacts: a third anywhere from the last days of 2024 to the
// first of 2026, a third within three hours of one of the zones' changes of offset, a third
// within a minute of one of their midnights.
func aroundEveryChange(t *testing.T) []fixture {
	t.Helper()
	var changes, midnights []time.Time
	for _, zone := range []string{"Europe/Rome", "America/New_York", "Australia/Lord_Howe"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		for at := time.Date(2024, 12, 1, 0, 0, 0, 0, loc); at.Year() < 2026 || at.Month() == time.January; {
			_, end := at.ZoneBounds()
			if end.IsZero() || end.After(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) {
				break
			}
			changes = append(changes, end)
			at = end
		}
		for d := time.Date(2024, 12, 30, 0, 0, 0, 0, loc); d.Year() < 2026 || d.Day() < 3; d = d.AddDate(0, 0, 1) {
			midnights = append(midnights, d)
		}
	}
	if len(changes) < 6 {
		t.Fatalf("only %d changes of offset found", len(changes))
	}
	r := rand.New(rand.NewPCG(11, 22))
	from := time.Date(2024, 12, 29, 0, 0, 0, 0, time.UTC)
	span := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC).Sub(from)
	out := make([]fixture, 3000)
	for i := range out {
		var at time.Time
		switch i % 3 {
		case 0:
			at = from.Add(time.Duration(r.Int64N(int64(span))))
		case 1:
			at = changes[r.IntN(len(changes))].Add(time.Duration(r.Int64N(int64(6*time.Hour))) - 3*time.Hour)
		default:
			at = midnights[r.IntN(len(midnights))].Add(time.Duration(r.Int64N(int64(2*time.Minute))) - time.Minute)
		}
		f := fixture{id: fmt.Sprintf("d%05d", i), received: at.Truncate(time.Microsecond), wait: -1, talk: -1, status: "open",
			channel: []string{"phone", "phone", "sms", "email", "fax"}[r.IntN(5)]}
		if f.channel == "phone" {
			switch r.IntN(4) {
			case 0:
				f.result, f.wait = "abandoned", r.IntN(60)
			case 1:
				f.result = "answered" // wait and talk unknown
			default:
				f.result, f.wait, f.talk = "answered", r.IntN(40), r.IntN(300)
			}
		}
		out[i] = f
	}
	return out
}
