package store_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// BenchmarkIngestParallel is the webhook's durable write under concurrency (group commit).
func BenchmarkIngestParallel(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			s := storetest.Open(b, d)
			var n atomic.Int64
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					_, err := s.Ingest(context.Background(), store.IngestRequest{In: channels.InboundMessage{Channel: channels.SMS,
						ExternalID: fmt.Sprintf("SM%d", i), From: fmt.Sprintf("+39347%07d", i), To: "+39055055", Body: "blocco del traffico domani?"}})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkIngestEmail is the SMTP server's durable write: a new contact from a new sender with
// a 3 KB text, from 8 writers (the SMTP benchmark's 8 connections). It uses only the store's
// public API, so it runs on older versions too. Besides the rate it reports the process's CPU
// time per write, which a shared, loaded machine disturbs less than the wall clock.
func BenchmarkIngestEmail(b *testing.B) {
	body := strings.Repeat("Buongiorno, vorrei sapere quando sarà attivo il blocco del traffico in centro. ", 38)
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			s := storetest.Open(b, d)
			var n atomic.Int64
			b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
			cpu0 := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					from := fmt.Sprintf("cittadino%d@example.org", i)
					_, err := s.Ingest(context.Background(), store.IngestRequest{Comune: "firenze", Category: "blocco-traffico",
						In: channels.InboundMessage{Channel: channels.Email, ExternalID: fmt.Sprintf("m%d@example.org", i),
							MessageID: fmt.Sprintf("m%d@example.org", i), From: from, FromName: "Mario Rossi", To: "urp@comune.fi.it",
							Subject: "Blocco del traffico", Body: body}})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/write")
		})
	}
}
