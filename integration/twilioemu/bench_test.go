package twilioemu

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkCreateMessage measures the emulator's REST throughput over loopback HTTP with parallel
// keep-alive clients: the ceiling for load tests that use it as Twilio.
func BenchmarkCreateMessage(b *testing.B) {
	emu := New(Options{AccountSID: testSID, AuthToken: testToken, CallbackDelay: time.Hour})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	defer func() { _ = emu.Close() }() // callbacks an hour away are still pending: expected
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	target := messagesURL(srv.URL, testSID)
	var n atomic.Int64
	b.SetParallelism(8) // 8 goroutines per CPU: requests overlap as a gateway's senders do
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			form := url.Values{"To": {fmt.Sprintf("+39347%07d", i%10000000)}, "From": {testFrom}, "Body": {fmt.Sprintf("avviso %d", i)}}
			req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(testSID, testToken)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body) // drained, or the connection is not reused
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Fatalf("HTTP %d", resp.StatusCode)
			}
		}
	})
	b.StopTimer()
	if emu.Count() != int(n.Load()) || emu.Duplicates() != 0 {
		b.Fatalf("count %d of %d, duplicates %d", emu.Count(), n.Load(), emu.Duplicates())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
