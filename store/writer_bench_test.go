package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// BenchmarkWriteMix is the webhook's durable write under concurrency, with one write in
// `every` an operator action that fails (a duplicate key): how much a few failing writes cost
// the group commit. It uses only the store's public API, so it runs on older versions too.
// Besides writes/s it reports the process's CPU time per write, which a shared, loaded machine
// disturbs less than the wall clock.
func BenchmarkWriteMix(b *testing.B) {
	for _, d := range storetest.Dialects {
		for _, every := range []int64{0, 1000, 100} {
			name := fmt.Sprintf("%s/fail_none", d)
			if every > 0 {
				name = fmt.Sprintf("%s/fail_1_in_%d", d, every)
			}
			b.Run(name, func(b *testing.B) {
				s := storetest.Open(b, d)
				ctx := context.Background()
				dup := func(ctx context.Context, tx *store.Tx) error {
					_, err := tx.Exec(ctx, "INSERT INTO outbox (id, channel, to_addr, from_addr, body, created_at) VALUES ('OBdup', 'sms', '+39', '+39', 'x', 1)")
					return err
				}
				if err := s.Write(ctx, dup); err != nil {
					b.Fatal(err)
				}
				var n, failed atomic.Int64
				b.SetParallelism(16)
				cpu0 := cpuTime()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := n.Add(1)
						// Writers are HTTP handlers: their request's context can end.
						ctx, cancel := context.WithCancel(ctx)
						if every > 0 && i%every == 0 {
							if err := s.Write(ctx, dup); err == nil {
								b.Error("the duplicate was accepted")
							}
							cancel()
							failed.Add(1)
							continue
						}
						_, err := s.Ingest(ctx, store.IngestRequest{In: channels.InboundMessage{Channel: channels.SMS,
							ExternalID: fmt.Sprintf("SM%d", i), From: fmt.Sprintf("+39347%07d", i%5000), To: "+39055055", Body: "blocco del traffico domani?"}})
						cancel()
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
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
