package integration

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// startReplicas runs n real binaries on one PostgreSQL database, each with its own data dir
// and port, all started at once (their migrations take turns through the lock), and waits
// until each answers /readyz.
func startReplicas(t *testing.T, dbURL string, n int) []*harness.Process {
	t.Helper()
	type started struct {
		i   int
		cfg string
		url string
	}
	var cfgs []started
	for i, addr := range harness.FreePorts(t, n) {
		dir := t.TempDir()
		yaml := harness.ConfigYAML(harness.Options{Extra: "log:\n  level: warn\n"}, dir, dbURL)
		cfgs = append(cfgs, started{i: i, cfg: harness.WriteConfig(t, dir, yaml, addr), url: addr})
	}
	procs := make([]*harness.Process, n)
	for _, c := range cfgs {
		procs[c.i] = harness.LaunchProcess(t, c.cfg, c.url)
	}
	for _, p := range procs {
		if err := p.WaitReady(60 * time.Second); err != nil {
			t.Fatalf("replica %s: %v\n%s", p.URL, err, p.Output())
		}
	}
	return procs
}

// postSMS posts one signed inbound SMS webhook and returns the status (0: no answer).
func postSMS(client *http.Client, base, sid, from, body string) int {
	form := harness.SMSForm(sid, from, "+39055055", body)
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks/twilio/sms", strings.NewReader(form.Encode()))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", harness.Signature(harness.AuthToken, harness.PublicURL+"/webhooks/twilio/sms", form))
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// storedSMS counts, per provider id, the inbound messages stored in the database at dbURL.
func storedSMS(t *testing.T, dbURL string) map[string]int {
	t.Helper()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, "SELECT external_id, COUNT(*) FROM messages WHERE direction = 'inbound' AND channel = 'sms' GROUP BY external_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Three replicas on one PostgreSQL database, webhooks spread over all three with no sticky
// routing; one is killed with SIGKILL mid-stream. Each webhook it did not answer 200 is
// redelivered to a survivor, as Twilio retries: every message is stored exactly once.
func TestReplicasSurviveKillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three real binaries")
	}
	dbURL := storetest.NewDatabaseURL(t, store.Postgres)
	procs := startReplicas(t, dbURL, 3)
	const total = 900
	const victim = 1
	client := &http.Client{Timeout: 10 * time.Second}
	var sent atomic.Int64
	var mu sync.Mutex
	answered := map[string]int{} // sid -> replica that answered 200
	var redelivered atomic.Int64
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 9; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				sid := fmt.Sprintf("SM%032d", i)
				from := fmt.Sprintf("+39347%07d", i%300)
				// Round robin; a webhook that gets no 200 goes to the next replica (Twilio
				// retries through the load balancer, which skips a dead backend).
				for try := 0; ; try++ {
					r := (i + try) % len(procs)
					if try > 0 {
						redelivered.Add(1)
					}
					if postSMS(client, procs[r].URL, sid, from, "segnalo una buca in via Roma") == http.StatusOK {
						mu.Lock()
						answered[sid] = r
						mu.Unlock()
						break
					}
					if try > 20 {
						t.Errorf("webhook %s: no replica answered 200", sid)
						break
					}
				}
				sent.Add(1)
			}
		}()
	}
	killed := false
	for i := 0; i < total; i++ {
		if !killed && sent.Load() >= total/3 {
			procs[victim].Kill(t) // mid-stream: nine webhooks are in flight around it
			killed = true
		}
		work <- i
	}
	close(work)
	wg.Wait()
	perReplica := make([]int, len(procs))
	for _, r := range answered {
		perReplica[r]++
	}
	t.Logf("answered 200 per replica %v; %d redeliveries after the kill", perReplica, redelivered.Load())
	if perReplica[victim] == 0 || perReplica[victim] >= total/2 {
		t.Errorf("the killed replica answered %d of %d: the kill was not mid-stream", perReplica[victim], total)
	}
	for i, p := range procs {
		if i != victim && p.Exited() {
			t.Errorf("survivor %d exited:\n%s", i, p.Output())
		}
	}
	stored := storedSMS(t, dbURL)
	var missing, dup []string
	for i := 0; i < total; i++ {
		sid := fmt.Sprintf("SM%032d", i)
		switch n := stored[sid]; {
		case n == 0:
			missing = append(missing, sid)
		case n > 1:
			dup = append(dup, sid)
		}
	}
	if len(missing) > 0 || len(dup) > 0 || len(stored) != total {
		t.Fatalf("%d distinct stored (want %d); missing %d %v; stored twice %d %v", len(stored), total, len(missing), head(missing), len(dup), head(dup))
	}
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}
