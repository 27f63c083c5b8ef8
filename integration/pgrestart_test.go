package integration

import (
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store/storetest"
)

// privatePG is a PostgreSQL instance of the test's own, in a temporary directory on a free
// port, which the test may stop and start (the machine's cluster is shared with other tests).
type privatePG struct {
	bin, dir, port string
	asPostgres     bool // running as root: the server runs as the postgres user
}

// pgBinDir finds PostgreSQL's server programs.
func pgBinDir() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", fmt.Errorf("no initdb in pg_config --bindir or /usr/lib/postgresql/*/bin")
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

// startPrivatePG initializes and starts an instance; it is stopped when the test ends. A
// failure to start skips the test, or fails it under CI=true.
func startPrivatePG(t *testing.T) *privatePG {
	t.Helper()
	bin, err := pgBinDir()
	storetest.RequirePeer(t, "PostgreSQL server programs", err)
	dir, err := os.MkdirTemp("", "sportello-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	p := &privatePG{bin: bin, dir: dir, port: strings.TrimPrefix(harness.FreePort(t), "127.0.0.1:"), asPostgres: os.Geteuid() == 0}
	if p.asPostgres {
		u, err := user.Lookup("postgres")
		storetest.RequirePeer(t, "a postgres user to run PostgreSQL as", err)
		var uid, gid int
		if _, err := fmt.Sscan(u.Uid, &uid); err != nil {
			t.Fatal(err)
		}
		if _, err := fmt.Sscan(u.Gid, &gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	out, err := p.run("initdb", "-D", p.data(), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
	storetest.RequirePeer(t, "initdb", wrapOut(err, out))
	t.Cleanup(func() { _, _ = p.run("pg_ctl", "-D", p.data(), "-m", "immediate", "-w", "stop") })
	p.start(t)
	return p
}

func wrapOut(err error, out []byte) error {
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

func (p *privatePG) data() string { return filepath.Join(p.dir, "data") }

func (p *privatePG) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(p.bin, prog)
	cmd := exec.Command(path, args...)
	if p.asPostgres {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return cmd.CombinedOutput()
}

func (p *privatePG) start(t *testing.T) {
	t.Helper()
	out, err := p.run("pg_ctl", "-D", p.data(), "-l", filepath.Join(p.dir, "log"), "-w", "-t", "30", "start",
		"-o", "-p "+p.port+" -k "+p.dir+" -c listen_addresses=127.0.0.1 -c max_connections=60")
	storetest.RequirePeer(t, "a private PostgreSQL instance", wrapOut(err, out))
}

// crash stops the server the way a crash does: no checkpoint, recovery from the WAL at start.
func (p *privatePG) crash(t *testing.T) {
	t.Helper()
	if out, err := p.run("pg_ctl", "-D", p.data(), "-m", "immediate", "-w", "stop"); err != nil {
		t.Fatalf("pg_ctl stop: %v: %s", err, out)
	}
}

func (p *privatePG) url(db string) string {
	return "postgres://postgres@127.0.0.1:" + p.port + "/" + db + "?sslmode=disable"
}

// readyStatus is a replica's /readyz status (0: no answer).
func readyStatus(base string) int {
	c := &http.Client{Timeout: 4 * time.Second}
	resp, err := c.Get(base + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// PostgreSQL restarted (crashed and started again) under a trickle of webhooks to two
// replicas: both stay up, /readyz says 503 while the database is away and 200 within 15 s of
// its return; every webhook answered 200 is stored, and once the others are redelivered (as
// Twilio retries) each message is stored exactly once.
func TestReplicasRideOutAPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs PostgreSQL and two real binaries")
	}
	pg := startPrivatePG(t)
	admin, err := sql.Open("pgx", pg.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE DATABASE sportello"); err != nil {
		t.Fatal(err)
	}
	_ = admin.Close()
	dbURL := pg.url("sportello")
	procs := startReplicas(t, dbURL, 2)

	client := &http.Client{Timeout: 5 * time.Second}
	var mu sync.Mutex
	status := map[string]int{} // sid -> status of its first delivery
	answeredAt := map[string]time.Time{}
	var order []string
	stop := make(chan struct{})
	trickleDone := make(chan struct{})
	go func() {
		defer close(trickleDone)
		tick := time.NewTicker(40 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			sid := fmt.Sprintf("SM%032d", i)
			st := postSMS(client, procs[i%len(procs)].URL, sid, fmt.Sprintf("+39347%07d", i%50), "il semaforo è spento")
			mu.Lock()
			status[sid] = st
			answeredAt[sid] = time.Now()
			order = append(order, sid)
			mu.Unlock()
		}
	}()
	// Deferred too, so that a failure below does not leave the trickle posting to dead
	// replicas until the test binary exits.
	var stopOnce sync.Once
	stopTrickle := func() {
		stopOnce.Do(func() { close(stop) })
		<-trickleDone
	}
	defer stopTrickle()
	answered := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, st := range status {
			if st == http.StatusOK {
				n++
			}
		}
		return n
	}
	allReady := func(want int) func() bool {
		return func() bool {
			for _, p := range procs {
				if readyStatus(p.URL) != want {
					return false
				}
			}
			return true
		}
	}
	waitUntil(t, 10*time.Second, "webhooks answered before the crash", func() bool { return answered() >= 10 })

	pg.crash(t)
	t.Logf("crashed at %v", time.Now().Format("15:04:05.000"))
	waitUntil(t, 10*time.Second, "/readyz 503 on every replica while PostgreSQL is down", allReady(http.StatusServiceUnavailable))
	downAt := answered()
	time.Sleep(2 * time.Second) // webhooks keep coming while the database is away
	for i, p := range procs {
		if p.Exited() {
			t.Fatalf("replica %d exited while PostgreSQL was down:\n%s", i, p.Output())
		}
	}
	pg.start(t)
	restartedAt := time.Now()
	t.Logf("restarted at %v", restartedAt.Format("15:04:05.000"))
	back := waitUntil(t, 15*time.Second, "/readyz 200 on every replica after PostgreSQL's return", allReady(http.StatusOK))
	t.Logf("ready again %v after PostgreSQL started; %d webhooks answered 200 before the crash", back.Round(time.Millisecond), downAt)
	waitUntil(t, 10*time.Second, "webhooks answered after the restart", func() bool { return answered() >= downAt+10 })
	stopTrickle()
	for i, p := range procs {
		if p.Exited() {
			t.Fatalf("replica %d exited:\n%s", i, p.Output())
		}
	}

	stored := storedSMS(t, dbURL)
	var lost []string
	var refused []int
	for i, sid := range order {
		switch {
		case status[sid] == http.StatusOK && stored[sid] != 1:
			lost = append(lost, fmt.Sprintf("%s(stored %d)", sid, stored[sid]))
		case status[sid] != http.StatusOK:
			refused = append(refused, i)
		}
	}
	if len(lost) > 0 {
		t.Fatalf("%d webhooks answered 200 but not stored once: %v", len(lost), head(lost))
	}
	if len(refused) == 0 {
		t.Fatal("no webhook was refused while PostgreSQL was down: the outage was not exercised")
	}
	// Twilio retries what was not answered 200.
	for _, i := range refused {
		sid := order[i]
		if st := postSMS(client, procs[i%len(procs)].URL, sid, fmt.Sprintf("+39347%07d", i%50), "il semaforo è spento"); st != http.StatusOK {
			t.Fatalf("redelivery of %s: %d", sid, st)
		}
	}
	stored = storedSMS(t, dbURL)
	for _, sid := range order {
		if stored[sid] != 1 {
			t.Fatalf("%s stored %d times after redelivery, want 1", sid, stored[sid])
		}
	}
	var lastRefused time.Time
	for _, i := range refused {
		if at := answeredAt[order[i]]; at.After(lastRefused) {
			lastRefused = at
		}
	}
	t.Logf("last refusal %v after PostgreSQL started", lastRefused.Sub(restartedAt).Round(time.Millisecond))
	hist := map[int]int{}
	for _, st := range status {
		hist[st]++
	}
	t.Logf("%d webhooks (answers by status %v), %d refused during the outage and redelivered", len(order), hist, len(refused))
}
