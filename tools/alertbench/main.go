// Command alertbench measures the alert fan-out of the real sportello binary against the
// Twilio emulator: N imported subscribers, one alert, the time until the emulator holds every
// message, compared with a plain client posting the same number of messages straight to the
// emulator in the same run (the ceiling); each subscriber must get the alert exactly once, and
// the gateway's peak memory (VmHWM) is read from /proc. A second phase checks pacing: at
// -pace-rate messages a second, the emulator's rate over -pace-window.
//
// With -inbound RATE, signed inbound SMS webhooks are posted at RATE a second for -inbound-window
// before the alert (the quiet p99) and again while the fan-out runs: the priority lanes' check,
// inbound p99 during the fan-out ≤ 3× the quiet p99 and ≤ 100 ms, as a ratio in the same run.
//
//	go run ./tools/alertbench -n 100000
//	go run ./tools/alertbench -n 100000 -db postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable -inbound 50 -skip-pacing -skip-ceiling
//	go run ./tools/alertbench -n 100000 -db postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/sportello/sportello/integration/gwconfig"
	"github.com/sportello/sportello/integration/loadgen"
	"github.com/sportello/sportello/integration/twilioemu"
)

const (
	accountSID = "AC00000000000000000000000000000000"
	authToken  = "benchauthtoken0123456789"
	from       = "+390550550"
)

type options struct {
	n           int
	clients     int
	bin         string
	db          string
	paceRate    int
	paceWindow  time.Duration
	skipPacing  bool
	skipCeiling bool
	keep        bool
	inbound     int
	inWindow    time.Duration
	extra       string
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 100000, "subscribers")
	flag.IntVar(&o.clients, "clients", 32, "concurrent requests of the plain client (the gateway's own limit is 32)")
	flag.StringVar(&o.bin, "bin", "", "sportello binary (default: go build ./cmd/sportello)")
	flag.StringVar(&o.db, "db", "", "PostgreSQL admin URL to run on a fresh database there (default: SQLite)")
	flag.IntVar(&o.paceRate, "pace-rate", 100, "twilio.max_messages_per_second for the pacing phase")
	flag.DurationVar(&o.paceWindow, "pace-window", time.Minute, "how long the pacing phase measures")
	flag.BoolVar(&o.skipPacing, "skip-pacing", false, "skip the pacing phase")
	flag.BoolVar(&o.skipCeiling, "skip-ceiling", false, "skip the plain client's run")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory")
	flag.IntVar(&o.inbound, "inbound", 0, "inbound SMS webhooks a second, quiet and during the fan-out (0: no latency check)")
	flag.DurationVar(&o.inWindow, "inbound-window", 10*time.Second, "how long the quiet inbound phase measures")
	flag.StringVar(&o.extra, "extra-config", "", "YAML appended to the gateway's config (top-level keys not already set, e.g. \"jobs:\\n  fetch_poll: 1s\")")
	pprofAddr := flag.String("pprof", "", "serve this process's profiles (the emulator's and the plain client's) on this address, e.g. 127.0.0.1:6070")
	flag.Parse()
	if *pprofAddr != "" {
		go func() {
			// DefaultServeMux carries net/http/pprof's handlers; a tool's profiling port only.
			if err := http.ListenAndServe(*pprofAddr, nil); err != nil {
				fmt.Fprintln(os.Stderr, "alertbench: pprof:", err)
			}
		}()
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "alertbench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	work, err := os.MkdirTemp("", "alertbench-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer func() {
			if err := os.RemoveAll(work); err != nil {
				fmt.Println("removing the working directory:", err)
			}
		}()
	} else {
		fmt.Println("working directory:", work)
	}
	if o.bin == "" {
		o.bin = filepath.Join(work, "sportello")
		fmt.Println("building ./cmd/sportello ...")
		cmd := exec.Command("go", "build", "-o", o.bin, "./cmd/sportello")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build (run from the repository root): %v\n%s", err, out)
		}
	}
	emu := twilioemu.New(twilioemu.Options{AccountSID: accountSID, AuthToken: authToken, OwnedNumbers: []string{from}, CallbackWorkers: 8})
	emuURL, err := emu.Start("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer func() {
		if err := emu.Close(); err != nil {
			fmt.Println("closing the Twilio emulator:", err)
		}
	}()
	numbers := make([]string, o.n)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("+39347%07d", i)
	}

	var ceiling float64
	if !o.skipCeiling {
		fmt.Printf("ceiling: a plain client posts %d messages straight to the emulator with %d concurrent requests ...\n", o.n, o.clients)
		selfBefore, _ := cpuTime(os.Getpid())
		took, err := plainClient(emuURL, numbers, o.clients)
		if err != nil {
			return err
		}
		selfAfter, selfErr := cpuTime(os.Getpid())
		ceiling = float64(o.n) / took.Seconds()
		fmt.Printf("ceiling: %d messages in %.2fs = %.0f msg/s (emulator holds %d, %d duplicates)\n", o.n, took.Seconds(), ceiling, emu.Count(), emu.Duplicates())
		if selfErr == nil {
			fmt.Printf("ceiling: the emulator and the plain client took %.0f µs of CPU a message\n", perMessage(selfAfter-selfBefore, o.n))
		}
		emu.Reset()
		if err := emu.WaitCallbacks(context.Background()); err != nil {
			return err
		}
	}

	dbURL := ""
	if o.db != "" {
		if dbURL, err = freshDatabase(o.db); err != nil {
			return err
		}
		fmt.Println("database:", dbURL)
		if !o.keep {
			defer dropDatabase(o.db, dbURL)
		}
	}
	addr, err := freePort()
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(work, "sportello.yaml")
	writeConfig := func(rate int) error {
		gw := gwconfig.Emulated{DataDir: filepath.Join(work, "data"), DatabaseURL: dbURL, Addr: addr, TwilioURL: emuURL,
			AccountSID: accountSID, AuthToken: authToken, From: from, Rate: rate}
		return os.WriteFile(cfgPath, []byte(gw.YAML()+o.extra), 0o600)
	}
	if err := writeConfig(1000000); err != nil {
		return err
	}
	csvPath := filepath.Join(work, "subscribers.csv")
	var csv bytes.Buffer
	csv.WriteString("phone\n")
	for _, n := range numbers {
		csv.WriteString(n + "\n")
	}
	if err := os.WriteFile(csvPath, csv.Bytes(), 0o600); err != nil {
		return err
	}
	start := time.Now()
	last, err := cli(o.bin, "subscribers", "import", "--config", cfgPath, "--comune", "firenze", csvPath)
	if err != nil {
		return err
	}
	fmt.Printf("import: %d rows in %.2fs: %s\n", o.n, time.Since(start).Seconds(), last)
	key, err := cli(o.bin, "apikey", "create", "--config", cfgPath, "--comune", "firenze", "--name", "alertbench")
	if err != nil {
		return err
	}

	gw, err := startGateway(o.bin, cfgPath, addr, filepath.Join(work, "gateway.log"))
	if err != nil {
		return err
	}
	fmt.Printf("gateway: pid %d on %s, pacing off (max_messages_per_second 1000000)\n", gw.Process.Pid, addr)
	var quiet []time.Duration
	var busy *loadgen.Inbound
	if o.inbound > 0 {
		signer := twilioemu.Signer{AccountSID: accountSID, AuthToken: authToken}
		q := loadgen.StartInbound("http://"+addr, signer, "+390552768000", o.inbound, "SMa")
		time.Sleep(o.inWindow)
		quiet = q.Stop()
		fmt.Printf("inbound, quiet: %d webhooks at %d/s, p50 %v, p99 %v, %d errors\n", len(quiet), o.inbound, pct(quiet, 50), pct(quiet, 99), q.Errors())
		busy = loadgen.StartInbound("http://"+addr, signer, "+390552768000", o.inbound, "SMb")
	}
	cpuBefore, _ := cpuTime(gw.Process.Pid)
	writtenBefore, _ := bytesWritten(gw.Process.Pid)
	// The emulator shares the machine with the gateway: its own CPU in each phase says how much
	// of the gap to the ceiling is the provider's work rather than the gateway's.
	emuBefore, _ := cpuTime(os.Getpid())
	start = time.Now()
	id, err := postAlert(addr, key, "Domani blocco del traffico dalle 8:30 alle 18:30 per i veicoli Euro 0-4 diesel.")
	if err != nil {
		stopGateway(gw)
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	progress := time.NewTicker(10 * time.Second)
	go func() {
		for range progress.C {
			fmt.Printf("  %6.0fs: %d handed over, %.0f msg/s over the last 10 s\n", time.Since(start).Seconds(), emu.Count(), emu.Rate(10*time.Second))
		}
	}()
	err = emu.WaitFor(ctx, o.n)
	progress.Stop()
	took := time.Since(start)
	inboundFailed := false
	if busy != nil {
		during := busy.Stop()
		q99, b99 := pct(quiet, 99), pct(during, 99)
		ratio := float64(b99) / float64(max(q99, time.Microsecond))
		fmt.Printf("inbound, during the fan-out: %d webhooks at %d/s, p50 %v, p99 %v, %d errors\n", len(during), o.inbound, pct(during, 50), b99, busy.Errors())
		fmt.Printf("inbound p99 during / quiet: %.2f (target <= 3, and p99 <= 100ms)\n", ratio)
		inboundFailed = ratio > 3 || b99 > 100*time.Millisecond || busy.Errors() > 0
	}
	hwm, _ := vmHWM(gw.Process.Pid)
	cpuAfter, cpuErr := cpuTime(gw.Process.Pid)
	emuAfter, emuErr := cpuTime(os.Getpid())
	writtenAfter, writtenErr := bytesWritten(gw.Process.Pid)
	if err != nil {
		stopGateway(gw)
		return err
	}
	rate := float64(o.n) / took.Seconds()
	distinct := map[string]bool{}
	for _, m := range emu.Messages() {
		distinct[m.To] = true
	}
	time.Sleep(2 * time.Second) // a duplicate would arrive now
	fmt.Printf("gateway: alert %s to %d subscribers: emulator holds every message after %.2fs = %.0f msg/s\n", id, o.n, took.Seconds(), rate)
	fmt.Printf("gateway: %d messages, %d distinct recipients, %d duplicates; peak memory VmHWM %d MB\n", emu.Count(), len(distinct), emu.Duplicates(), hwm/1024)
	if cpuErr == nil {
		fmt.Printf("gateway: CPU %.1f s during the fan-out, %.0f µs a message\n", (cpuAfter - cpuBefore).Seconds(), perMessage(cpuAfter-cpuBefore, o.n))
	}
	if writtenErr == nil {
		fmt.Printf("gateway: wrote %.1f KB to the disk a message during the fan-out\n", float64(writtenAfter-writtenBefore)/1024/float64(o.n))
	}
	if emuErr == nil {
		fmt.Printf("gateway: the emulator took %.0f µs of CPU a message meanwhile (its status callbacks included)\n", perMessage(emuAfter-emuBefore, o.n))
	}
	if ceiling > 0 {
		fmt.Printf("gateway/ceiling: %.2f (target >= 0.6)\n", rate/ceiling)
	}
	failed := emu.Count() != o.n || len(distinct) != o.n || emu.Duplicates() != 0 || inboundFailed
	if hwm/1024 > 256 {
		failed = true
	}

	if !o.skipPacing {
		stopGateway(gw)
		if err := writeConfig(o.paceRate); err != nil {
			return err
		}
		if gw, err = startGateway(o.bin, cfgPath, addr, filepath.Join(work, "gateway-pacing.log")); err != nil {
			return err
		}
		emu.Reset()
		id, err := postAlert(addr, key, "Prova di ritmo: questo avviso misura la cadenza di invio.")
		if err != nil {
			stopGateway(gw)
			return err
		}
		time.Sleep(3 * time.Second) // past the first reservations
		from := time.Now()
		time.Sleep(o.paceWindow)
		got := emu.RateBetween(from, from.Add(o.paceWindow))
		peak := emu.PeakRate(time.Second)
		if err := cancelAlert(addr, key, id); err != nil {
			fmt.Println("cancel:", err)
		}
		dev := (got - float64(o.paceRate)) / float64(o.paceRate) * 100
		fmt.Printf("pacing: max_messages_per_second %d: %.2f msg/s over %v (%+.2f%%, target within ±5%%); busiest 1 s window %.0f\n", o.paceRate, got, o.paceWindow, dev, peak)
		if dev < -5 || dev > 5 {
			failed = true
		}
	}
	stopGateway(gw)
	if failed {
		return errors.New("a target was missed (see above)")
	}
	return nil
}

// pct is the p-th percentile of ds (nearest rank).
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[max(i, 0)]
}

// plainClient posts one message per number straight to the emulator, clients at a time.
func plainClient(base string, numbers []string, clients int) (time.Duration, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = clients
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	endpoint := base + "/2010-04-01/Accounts/" + accountSID + "/Messages.json"
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(numbers) {
					return
				}
				form := url.Values{"To": {numbers[i]}, "From": {from}, "Body": {"Domani blocco del traffico dalle 8:30 alle 18:30 per i veicoli Euro 0-4 diesel."}}
				req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(accountSID, authToken)
				resp, err := c.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body) // drained for reuse; the status is the result
					resp.Body.Close()
					if resp.StatusCode != http.StatusCreated {
						err = fmt.Errorf("HTTP %d", resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}

func cli(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("sportello %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[len(lines)-1], nil
}

func startGateway(bin, cfgPath, addr, logPath string) (*exec.Cmd, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := c.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, nil
			}
		}
	}
	stopGateway(cmd)
	return nil, fmt.Errorf("the gateway did not become ready; see %s", logPath)
}

func stopGateway(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() {
		if err := cmd.Wait(); err != nil {
			fmt.Println("the gateway exited:", err)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

var api = &http.Client{Timeout: 60 * time.Second}

func postAlert(addr, key, message string) (string, error) {
	body, _ := json.Marshal(map[string]any{"category": "blocco-traffico", "message": message})
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/alerts", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := api.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		ID         string `json:"id"`
		Recipients int    `json:"recipients"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(b, &out) != nil {
		return "", fmt.Errorf("POST /api/v1/alerts: %d %s", resp.StatusCode, b)
	}
	return out.ID, nil
}

func cancelAlert(addr, key, id string) error {
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/alerts/"+id+"/cancel", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := api.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// vmHWM is a process's peak resident memory in kB.
func vmHWM(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	return 0, errors.New("no VmHWM")
}

// cpuTime is the CPU a process has used (user and system), from /proc at the kernel's usual
// 100 ticks a second: a steadier measure than a rate on a shared machine.
// bytesWritten is what the process pid caused to be written to storage so far (write_bytes of
// /proc/PID/io): the database's log, its checkpoints and anything else.
func bytesWritten(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, errors.New("no write_bytes in /proc io")
}

// perMessage is d in microseconds per message.
func perMessage(d time.Duration, n int) float64 {
	return float64(d.Microseconds()) / float64(n)
}

func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unreadable /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// dropDatabase drops the database freshDatabase made (the server is shared).
func dropDatabase(admin, dbURL string) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return
	}
	defer func() { _ = db.Close() }() // one statement on a pool of our own: nothing left to report
	if _, err := db.Exec("DROP DATABASE IF EXISTS " + strings.TrimPrefix(u.Path, "/") + " WITH (FORCE)"); err != nil {
		fmt.Println("dropping the bench database:", err)
	}
}

// freshDatabase creates a new database on the PostgreSQL server of admin and returns its URL.
func freshDatabase(admin string) (string, error) {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", err
	}
	defer func() { _ = db.Close() }() // one statement on a pool of our own: nothing left to report
	name := fmt.Sprintf("alertbench_%d", time.Now().UnixNano())
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		return "", err
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}
