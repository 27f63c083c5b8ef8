// Command smsload measures inbound SMS webhook throughput. `smsload bare` serves a baseline
// handler that only parses the form, checks the Twilio signature and answers empty TwiML;
// `smsload run` sends signed webhooks (each with its own MessageSid and sender) from N
// concurrent clients to a target and reports the rate and latency percentiles; `smsload count`
// counts what a gateway's database stored, to prove nothing was lost.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	twclient "github.com/twilio/twilio-go/client"

	"github.com/sportello/sportello/adapters/twilio"
	"github.com/sportello/sportello/store"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: smsload bare|run|count [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "bare":
		err = bare(os.Args[2:])
	case "run":
		err = run(os.Args[2:])
	case "count":
		err = count(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "smsload:", err)
		os.Exit(1)
	}
}

// bare is the baseline: the same work a webhook must do before storing anything.
func bare(args []string) error {
	fs := flag.NewFlagSet("bare", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:8099", "address")
	token := fs.String("token", "testauthtoken0123456789", "Twilio auth token")
	public := fs.String("public-url", "https://sportello.test", "public base URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	v := twclient.NewRequestValidator(*token)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/webhooks/twilio/sms", func(c echo.Context) error {
		r := c.Request()
		if err := r.ParseForm(); err != nil {
			return c.NoContent(http.StatusBadRequest)
		}
		params := map[string]string{}
		for k, vs := range r.PostForm {
			params[k] = vs[0]
		}
		if !v.Validate(*public+r.URL.RequestURI(), params, r.Header.Get("X-Twilio-Signature")) {
			return c.NoContent(http.StatusForbidden)
		}
		return c.Blob(http.StatusOK, "text/xml; charset=utf-8", []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response/>\n"))
	})
	return e.Start(*listen)
}

// Result is one run's numbers (printed as JSON on the last line).
type Result struct {
	Target   string  `json:"target"`
	Requests int64   `json:"requests"`
	OK       int64   `json:"ok"`
	Failed   int64   `json:"failed"`
	Seconds  float64 `json:"seconds"`
	Rate     float64 `json:"rate_per_s"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	Prefix   string  `json:"sid_prefix"`
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	target := fs.String("target", "http://127.0.0.1:8080", "base URL to post to")
	public := fs.String("public-url", "https://sportello.test", "public base URL the signature covers")
	token := fs.String("token", "testauthtoken0123456789", "Twilio auth token")
	conc := fs.Int("c", 32, "concurrent clients")
	dur := fs.Duration("d", 10*time.Second, "duration")
	prefix := fs.String("prefix", fmt.Sprintf("SM%08x", uint32(time.Now().UnixNano())), `MessageSid prefix of this run: "SM" and hex digits (the gateway takes only Twilio's sids)`)
	if err := fs.Parse(args); err != nil {
		return err
	}

	transport := &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}
	client := &http.Client{Timeout: 10 * time.Second, Transport: transport}
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()
	var seq, ok, failed atomic.Int64
	lat := make([][]time.Duration, *conc)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for ctx.Err() == nil {
				n := seq.Add(1)
				sid := fmt.Sprintf("%s%0*d", *prefix, 34-len(*prefix), n)
				form := url.Values{"MessageSid": {sid}, "AccountSid": {"AC00000000000000000000000000000000"},
					"From": {fmt.Sprintf("+39347%07d", n%10_000_000)}, "To": {"+39055055"},
					"Body": {"Buongiorno, domani c'è il blocco del traffico a Firenze? Grazie"}, "NumMedia": {"0"}, "ApiVersion": {"2010-04-01"}}
				req, _ := http.NewRequest(http.MethodPost, *target+"/webhooks/twilio/sms", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Twilio-Signature", twilio.Signature(*token, *public+"/webhooks/twilio/sms", form))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body) // drained for reuse; the status is the result
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					ok.Add(1)
					lat[w] = append(lat[w], time.Since(t0))
				} else {
					failed.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000
	}
	r := Result{Target: *target, Requests: ok.Load() + failed.Load(), OK: ok.Load(), Failed: failed.Load(), Seconds: elapsed,
		Rate: float64(ok.Load()) / elapsed, P50ms: pct(0.50), P99ms: pct(0.99), Prefix: *prefix}
	if len(all) > 0 {
		r.MaxMs = float64(all[len(all)-1].Microseconds()) / 1000
	}
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
	return nil
}

// count reports how many inbound messages of a run's prefix a gateway's database holds.
func count(args []string) error {
	fs := flag.NewFlagSet("count", flag.ExitOnError)
	dataDir := fs.String("data-dir", "", "the gateway's data_dir (SQLite)")
	dbURL := fs.String("database-url", "", "or its PostgreSQL URL")
	prefix := fs.String("prefix", "", "MessageSid prefix")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := store.Open(context.Background(), store.Options{URL: *dbURL, DataDir: *dataDir})
	if err != nil {
		return err
	}
	var n int
	err = s.QueryRow(context.Background(), "SELECT COUNT(*) FROM messages WHERE channel = 'sms' AND external_id LIKE ?", *prefix+"%").Scan(&n)
	if err := errors.Join(err, s.Close()); err != nil {
		return err
	}
	fmt.Println(n)
	return nil
}
