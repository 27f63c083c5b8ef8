// Command ssebench measures how long a new contact takes to reach an operator's screen: from the
// moment an inbound SMS webhook's answer is received to the moment the contact's Server-Sent
// Event arrives at a client connected to /api/v1/events, while SMS arrive at a steady rate.
//
// By default it starts a gateway in-process (SQLite in a temporary folder, or PostgreSQL with
// -database-url), with some operators available so assignment runs too; with -url it measures a
// gateway already running on this machine (then -token, -auth-token and -public-url must match
// it). Only loopback targets are accepted.
//
//	go run ./tools/ssebench -rate 50 -duration 20s
//	go run ./tools/ssebench -rate 50 -duration 20s -database-url postgres://postgres@127.0.0.1:5432/sportello_bench
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/gateway"
	"github.com/sportello/sportello/integration/twilioemu"
	"github.com/sportello/sportello/router"
	"github.com/sportello/sportello/store"
)

const benchYAML = `
data_dir: %q
database_url: %q
public_url: %s
http:
  listen: 127.0.0.1:0
smtp:
  listen: ""
twilio:
  auth_token: %s
business_hours:
  days: [mon, tue, wed, thu, fri, sat, sun]
  open: "00:00"
  close: "23:59"
shared_numbers: ["+39055055"]
comuni:
  - id: firenze
    name: Comune di Firenze
    phone_numbers: ["+390552768000"]
  - id: empoli
    name: Comune di Empoli
    phone_numbers: ["+39057175761"]
`

type options struct {
	url, token, authToken, publicURL, databaseURL, to string
	rate                                              float64
	duration                                          time.Duration
	operators                                         int
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "", "gateway base URL on loopback (empty: start one in-process)")
	flag.StringVar(&o.token, "token", "", "API token of an unscoped user (with -url)")
	flag.StringVar(&o.authToken, "auth-token", "ssebench0auth0token0123", "Twilio auth token the gateway checks signatures with")
	flag.StringVar(&o.publicURL, "public-url", "https://sportello.test", "the gateway's public_url")
	flag.StringVar(&o.databaseURL, "database-url", "", "in-process: PostgreSQL URL (empty: SQLite in a temporary folder)")
	flag.StringVar(&o.to, "to", "+390552768000", "number the SMS are sent to")
	flag.Float64Var(&o.rate, "rate", 50, "contacts per second")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long to send (bounded to 5 minutes)")
	flag.IntVar(&o.operators, "operators", 17, "in-process: operators available (capacity 5 each)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "ssebench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.rate <= 0 || o.rate > 1000 {
		return errors.New("-rate must be between 0 and 1000")
	}
	if o.duration <= 0 || o.duration > 5*time.Minute {
		return errors.New("-duration must be between 0 and 5m")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if o.url == "" {
		stop, err := startGateway(ctx, &o)
		if err != nil {
			return err
		}
		defer stop()
	} else if err := requireLoopback(o.url); err != nil {
		return err
	}
	arrivals, err := subscribe(ctx, o.url, o.token)
	if err != nil {
		return err
	}
	signer := twilioemu.Signer{AccountSID: "AC00000000000000000000000000000000", AuthToken: o.authToken}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	var mu sync.Mutex
	answered := map[string]time.Time{} // sender number -> when its webhook answer was read
	posted := map[string]time.Time{}   // sender number -> when its webhook request left
	seen := map[string]time.Time{}     // sender number -> when its contact.created event arrived
	go func() {
		for a := range arrivals {
			mu.Lock()
			if _, dup := seen[a.from]; !dup {
				seen[a.from] = a.at
			}
			mu.Unlock()
		}
	}()

	n := int(o.rate * o.duration.Seconds())
	interval := time.Duration(float64(time.Second) / o.rate)
	start := time.Now()
	var wg sync.WaitGroup
	var failMu sync.Mutex
	var failures []error
	run := fmt.Sprintf("%06d", time.Now().UnixNano()%1_000_000)
	for i := 0; i < n; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		from := fmt.Sprintf("+39347%s%04d", run[:3], i%10000)
		if n > 10000 {
			return errors.New("at most 10,000 contacts per run")
		}
		params := url.Values{"MessageSid": {fmt.Sprintf("SM%s%026d", run, i)}, "From": {from}, "To": {o.to}, "Body": {"permesso ztl per favore"}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent := time.Now()
			resp, err := signer.PostInboundSMS(ctx, client, o.publicURL, o.url, params)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("webhook answered %d", resp.StatusCode)
				}
			}
			at := time.Now()
			if err != nil {
				failMu.Lock()
				failures = append(failures, err)
				failMu.Unlock()
				return
			}
			mu.Lock()
			answered[from], posted[from] = at, sent
			mu.Unlock()
		}()
	}
	wg.Wait()
	sendTime := time.Since(start)
	// Late events get two seconds.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		done := len(seen) >= len(answered)
		mu.Unlock()
		if done {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	var lat, full []time.Duration
	early, missing := 0, 0
	for from, a := range answered {
		e, ok := seen[from]
		if !ok {
			missing++
			continue
		}
		full = append(full, e.Sub(posted[from]))
		d := e.Sub(a)
		if d < 0 {
			early++ // the event beat the webhook's answer to the client
			d = 0
		}
		lat = append(lat, d)
	}
	slices.Sort(lat)
	slices.Sort(full)
	fmt.Printf("sent %d SMS in %.1fs (%.1f/s), %d webhook failures\n", n, sendTime.Seconds(), float64(n)/sendTime.Seconds(), len(failures))
	if len(failures) > 0 {
		fmt.Printf("first failure: %v\n", failures[0])
	}
	fmt.Printf("events matched %d, missing %d, before the webhook answer %d\n", len(lat), missing, early)
	if len(lat) > 0 {
		q := func(p float64) string { return fmtMS(lat[int(p*float64(len(lat)-1))]) }
		fmt.Printf("webhook answer -> SSE event: p50 %s  p90 %s  p99 %s  max %s\n", q(0.5), q(0.9), q(0.99), fmtMS(lat[len(lat)-1]))
		f := func(p float64) string { return fmtMS(full[int(p*float64(len(full)-1))]) }
		fmt.Printf("webhook request -> SSE event: p50 %s  p90 %s  p99 %s  max %s\n", f(0.5), f(0.9), f(0.99), fmtMS(full[len(full)-1]))
	}
	if missing > 0 || len(failures) > 0 {
		return fmt.Errorf("%d events missing, %d webhooks failed", missing, len(failures))
	}
	return nil
}

func fmtMS(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

type arrival struct {
	from string
	at   time.Time
}

// subscribe connects to the event stream and reports each contact.created event's sender.
func subscribe(ctx context.Context, base, token string) (<-chan arrival, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/events", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	// No client timeout: the stream lives as long as the run; ctx ends it.
	resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("event stream answered %d", resp.StatusCode)
	}
	out := make(chan arrival, 4096)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		typ := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				typ = line[len("event: "):]
			case strings.HasPrefix(line, "data: ") && typ == "contact.created":
				at := time.Now()
				var c struct {
					From string `json:"from"`
				}
				if json.Unmarshal([]byte(line[len("data: "):]), &c) == nil {
					out <- arrival{from: c.From, at: at}
				}
			case line == "":
				typ = ""
			}
		}
	}()
	return out, nil
}

// startGateway runs a gateway in-process and fills o.url and o.token.
func startGateway(ctx context.Context, o *options) (func(), error) {
	dir, err := os.MkdirTemp("", "ssebench-")
	if err != nil {
		return nil, err
	}
	cfg, err := config.Parse([]byte(fmt.Sprintf(benchYAML, dir, o.databaseURL, o.publicURL, o.authToken)))
	if err != nil {
		_ = os.RemoveAll(dir) // best-effort cleanup; err is the one to report
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gctx, cancel := context.WithCancel(ctx)
	g, err := gateway.New(gctx, cfg, log)
	if err != nil {
		cancel()
		_ = os.RemoveAll(dir) // best-effort cleanup; err is the one to report
		return nil, err
	}
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- g.Run(gctx, ready) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		err = errors.Join(err, g.Close())
		_ = os.RemoveAll(dir) // best-effort cleanup; err is the one to report
		return nil, err
	}
	stop := func() {
		cancel()
		if err := errors.Join(<-done, g.Close(), os.RemoveAll(dir)); err != nil {
			fmt.Println("stopping the gateway:", err)
		}
	}
	o.url = "http://" + g.HTTPAddr()
	u, err := g.Store.CreateUser(ctx, store.User{Username: fmt.Sprintf("bench%d", time.Now().UnixNano()), Role: store.RoleSupervisor, PasswordHash: "x"})
	if err == nil {
		o.token, err = g.Store.CreateToken(ctx, u.ID, store.TokenAPI, time.Hour)
	}
	for i := 0; err == nil && i < o.operators; i++ {
		var op store.User
		op, err = g.Store.CreateUser(ctx, store.User{Username: fmt.Sprintf("op%02d-%d", i, time.Now().UnixNano()), Role: store.RoleOperator, PasswordHash: "x"})
		if err == nil {
			err = g.Desk.SetPresence(ctx, op, router.PresenceAvailable)
		}
	}
	if err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

func requireLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s is not a loopback address: load goes only to this machine", raw)
}
