package reports_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sportello/sportello/reports"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// yearOfContacts is the seed's year: 300,000 contacts over 2025, in opening hours, with the
// seed's channel, comune, category and outcome mix, waits and talk times.
func yearOfContacts(n int) []fixture {
	r := rand.New(rand.NewPCG(2005, 2))
	pick := func(keys []string, weights []float64) string {
		x := r.Float64()
		for i, w := range weights {
			if x < w {
				return keys[i]
			}
			x -= w
		}
		return keys[len(keys)-1]
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, rome)
	out := make([]fixture, n)
	for i := range out {
		day := start.AddDate(0, 0, r.IntN(365))
		at := day.Add(8*time.Hour + time.Duration(r.Int64N(int64(12*time.Hour))))
		f := fixture{id: fmt.Sprintf("y%07d", i), received: at, wait: -1, talk: -1,
			channel:  pick([]string{"phone", "sms", "email", "fax"}, []float64{0.7, 0.15, 0.12}),
			comune:   pick([]string{"firenze", "sesto-fiorentino", "bagno-a-ripoli", "empoli", ""}, []float64{0.6, 0.15, 0.1, 0.1}),
			category: pick([]string{"blocco-traffico", "contravvenzioni", "servizi-generici", "permessi-ztl", "incentivi-veicoli", "altro"}, []float64{0.4497, 0.1914, 0.1189, 0.0538, 0.0366}),
			status:   "resolved",
			outcome:  pick([]string{"first_level", "transferred_phone", "forwarded_email"}, []float64{0.935, 0.041}),
		}
		if f.channel == "phone" {
			if r.Float64() < 0.05 {
				f.result, f.wait, f.status, f.outcome = "abandoned", r.IntN(120), "open", ""
			} else {
				f.result, f.wait, f.talk = "answered", int(r.ExpFloat64()*15), int(r.ExpFloat64()*117)
			}
		} else {
			f.firstReply = time.Duration(r.ExpFloat64() * float64(2*time.Hour))
		}
		out[i] = f
	}
	return out
}

// BenchmarkYear measures the summary, the staffing answer and the CSV of a year of 300,000
// contacts on both databases:
//
//	go test ./reports -run '^$' -bench Year -benchtime 5x
func BenchmarkYear(b *testing.B) {
	fixtures := yearOfContacts(300_000)
	for _, d := range storetest.Dialects {
		b.Run(strings.ToLower(string(d)), func(b *testing.B) {
			st := storetest.Open(b, d)
			began := time.Now()
			insertFixtures(b, st, fixtures)
			b.Logf("%s: inserted %d contacts in %v", d, len(fixtures), time.Since(began).Round(time.Millisecond))
			if d == store.Postgres {
				// What autovacuum does within a minute of a bulk load (it is off on the test
				// server): without statistics the planner takes a year for 259 rows and picks
				// plans that cost the summary three times as much.
				if _, err := st.DB().ExecContext(context.Background(), "VACUUM ANALYZE contacts"); err != nil {
					b.Fatal(err)
				}
			}
			svc := newService(b, st, time.Date(2026, 1, 10, 12, 0, 0, 0, rome))
			q, err := svc.NewQuery("2025-01-01", "2025-12-31", "", nil)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.Run("summary", func(b *testing.B) {
				defer reportCPU(b)()
				for b.Loop() {
					s, err := svc.Summary(ctx, q)
					if err != nil || s.Contacts.Total != int64(len(fixtures)) {
						b.Fatalf("%d %v", s.Contacts.Total, err)
					}
				}
			})
			b.Run("summary-one-comune", func(b *testing.B) {
				defer reportCPU(b)()
				q := q
				q.Comune = "empoli"
				for b.Loop() {
					if _, err := svc.Summary(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("staffing", func(b *testing.B) {
				defer reportCPU(b)()
				for b.Loop() {
					if _, err := svc.Staffing(ctx, q, reports.StaffingTarget{Seconds: 20, Level: 0.8}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("csv", func(b *testing.B) {
				var buf bytes.Buffer
				for b.Loop() {
					buf.Reset()
					if err := svc.WriteCSV(ctx, q, &buf); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(buf.Len()), "bytes")
			})
		})
	}
}

// reportCPU adds the process's CPU time per operation (user and system, every thread): on a
// machine shared with other work the wall time says more about the neighbours than about the
// query. For PostgreSQL the server's own CPU is not in it.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64((cpuTime()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
	}
}

func cpuTime() time.Duration {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		return 0
	}
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}
