package alertstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/store/storetest"
)

// BenchmarkSendChunk is the fan-out's two writes a chunk, as a fan-out job makes them: claim
// 200 queued recipients, then record them all sent, each with a random provider id as
// Twilio's are (ordered ids hid what an index on them cost). One op is one chunk; recipient/s and
// µs/recipient are reported. Run: go test ./store/alertstore -run X -bench SendChunk -benchtime 50x
func BenchmarkSendChunk(b *testing.B) {
	const chunk = 200
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			st := storetest.Open(b, d)
			n := b.N * chunk
			s, a, p, o := startLargeAlert(b, st, n, n)
			prepareAll(b, s, a.ID, p.start(o))
			ctx := context.Background()
			if err := s.Heartbeat(ctx, "p"); err != nil {
				b.Fatal(err)
			}
			lease, ok, err := s.ClaimAlertBatch(ctx, a.ID, 0, "p", alertstore.Liveness{StaleBefore: time.Now().Add(-time.Minute)})
			if !ok || err != nil {
				b.Fatalf("claim: %v %v", ok, err)
			}
			var inClaim, inRecord time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				seqs, err := s.QueuedInBatch(ctx, a.ID, 0, chunk)
				if err != nil {
					b.Fatal(err)
				}
				rs, err := s.ClaimRecipients(ctx, a.ID, 0, seqs, lease)
				if err != nil || len(rs) != chunk {
					b.Fatalf("claimed %d of %d: %v", len(rs), chunk, err)
				}
				t1 := time.Now()
				inClaim += t1.Sub(t0)
				results := make([]alertstore.SendResult, len(rs))
				for j, r := range rs {
					results[j] = alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeSent, SID: fmt.Sprintf("SM%016x%016x", rand.Uint64(), rand.Uint64()), ClaimedAt: r.ClaimedAt}
				}
				if err := s.RecordSendResults(ctx, a.ID, 0, "p", results, nil); err != nil {
					b.Fatal(err)
				}
				inRecord += time.Since(t1)
			}
			b.StopTimer()
			var sent int
			if err := st.QueryRow(ctx, "SELECT COUNT(*) FROM alert_recipients WHERE alert_id = ? AND status = 'sent' AND sid IS NOT NULL", a.ID).Scan(&sent); err != nil || sent != n {
				b.Fatalf("%d of %d recorded sent: %v", sent, n, err)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/recipient")
			b.ReportMetric(float64(inClaim.Microseconds())/float64(n), "claim-µs/recipient")
			b.ReportMetric(float64(inRecord.Microseconds())/float64(n), "record-µs/recipient")
		})
	}
}
