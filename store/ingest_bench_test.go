package store_test

import (
	"context"
	"fmt"
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
