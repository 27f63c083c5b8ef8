package desk_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// benchSetup builds the scenario: 100 available operators (skills: Firenze or Empoli,
// some limited to categories) and 1,000 contacts waiting in the backlog (for Sesto, a comune no
// operator covers, so they stay waiting).
func benchSetup(b *testing.B, d store.Dialect, capacity int) (*store.Store, *desk.Desk) {
	b.Helper()
	s := storetest.Open(b, d)
	cfg, err := config.Parse([]byte(testYAML + `
  - id: sesto
    name: Comune di Sesto Fiorentino
    phone_numbers: ["+39055449601"]
`))
	if err != nil {
		b.Fatal(err)
	}
	dk, err := desk.New(desk.Options{Store: s, Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		u := store.User{Username: fmt.Sprintf("op%03d", i), Role: store.RoleOperator, PasswordHash: "x", Capacity: capacity}
		if i%2 == 0 {
			u.Comuni = []string{"firenze"}
		} else {
			u.Comuni = []string{"empoli", "firenze"}
		}
		if i%5 == 0 {
			u.Categories = []string{"contravvenzioni", "altro"}
		}
		created, err := s.CreateUser(ctx, u)
		if err != nil {
			b.Fatal(err)
		}
		if err := dk.SetPresence(ctx, created, "available"); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 1000; i++ {
		if _, err := s.Ingest(ctx, store.IngestRequest{Comune: "sesto", Category: "altro", Queue: "generale",
			In: channels.InboundMessage{Channel: channels.SMS, ExternalID: fmt.Sprintf("SMW%06d", i), From: fmt.Sprintf("+39347%07d", i),
				To: "+39055449601", Body: "attesa"}}); err != nil {
			b.Fatal(err)
		}
	}
	return s, dk
}

func reportP99(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}

// BenchmarkAssignNewContact times the whole decision for a new contact — the transaction that
// takes the assignment lock, reads the contact and every available operator's open count,
// picks (router.Pick) and writes the assignment and its audit line — with 1,000 contacts
// waiting and 100 operators.
func BenchmarkAssignNewContact(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(strings.ToLower(string(d)), func(b *testing.B) {
			s, dk := benchSetup(b, d, 1_000_000)
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				r, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", Category: "contravvenzioni", Queue: "multe",
					In: channels.InboundMessage{Channel: channels.SMS, ExternalID: fmt.Sprintf("SMN%s%09d", d, i), From: fmt.Sprintf("+39348%07d", i),
						To: "+390552768000", Body: "multa"}})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				who, err := dk.AssignWaiting(ctx, r.ContactID)
				lat = append(lat, time.Since(start))
				if err != nil || who == "" {
					b.Fatalf("not assigned: %q %v", who, err)
				}
			}
			b.StopTimer()
			reportP99(b, lat)
		})
	}
}

// BenchmarkDrainFreedPlace times what happens when an operator frees a place with 1,000
// contacts waiting: the transaction reads the backlog and the operators, runs router.DrainAt and
// assigns the first contact the operator can take.
func BenchmarkDrainFreedPlace(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(strings.ToLower(string(d)), func(b *testing.B) {
			s, dk := benchSetup(b, d, 0)
			ctx := context.Background()
			// Firenze contacts for op000 to take one at a time, behind the 1,000 Sesto ones.
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if _, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", Category: "altro", Queue: "generale",
					In: channels.InboundMessage{Channel: channels.SMS, ExternalID: fmt.Sprintf("SMD%s%09d", d, i), From: fmt.Sprintf("+39349%07d", i),
						To: "+390552768000", Body: "x"}}); err != nil {
					b.Fatal(err)
				}
				if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
					_, err := tx.Exec(ctx, "UPDATE users SET capacity = capacity + 1 WHERE username = 'op000'")
					return err
				}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				made, err := dk.Drain(ctx, "op000")
				lat = append(lat, time.Since(start))
				if err != nil || len(made) != 1 {
					b.Fatalf("drain: %v %v", made, err)
				}
			}
			b.StopTimer()
			reportP99(b, lat)
		})
	}
}
