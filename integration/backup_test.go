package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// TestBackupWhileServingRestores runs the real binary: serve on a data folder while signed SMS
// webhooks keep arriving, `sportello backup` in the middle of them, then serve again on a new
// data folder holding the snapshot alone as sportello.db. Every SMS acknowledged before the
// backup began is a contact there, seen through the operator API with a token created before
// the backup, and the contacts there are the number the backup reported. On PostgreSQL the
// command refuses and names pg_dump.
func TestBackupWhileServingRestores(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		bin := harness.Binary(t)
		dir := t.TempDir()
		dbURL := storetest.NewDatabaseURL(t, d)
		addr := harness.FreePort(t)
		cfg := harness.WriteConfig(t, dir, harness.ConfigYAML(harness.Options{}, filepath.Join(dir, "data"), dbURL), addr)
		p := harness.StartProcess(t, cfg, addr)
		snapshot := filepath.Join(dir, "backups", "sportello.db")
		if err := os.Mkdir(filepath.Dir(snapshot), 0o700); err != nil {
			t.Fatal(err)
		}
		if d == store.Postgres {
			out, err := exec.Command(bin, "backup", "--config", cfg, "--out", snapshot).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "pg_dump") {
				t.Fatalf("backup with database_url: %v\n%s", err, out)
			}
			if _, err := os.Stat(snapshot); !os.IsNotExist(err) {
				t.Fatalf("backup with database_url wrote a file: %v", err)
			}
			return
		}
		add := exec.Command(bin, "user", "add", "--config", cfg, "--username", "ada", "--role", "admin")
		add.Stdin = strings.NewReader("una-password-lunga\n")
		if out, err := add.CombinedOutput(); err != nil {
			t.Fatalf("user add: %v %s", err, out)
		}
		out, err := exec.Command(bin, "token", "create", "--config", cfg, "--username", "ada").Output()
		if err != nil {
			t.Fatalf("token create: %v", err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		token := lines[len(lines)-1]

		var mu sync.Mutex
		var acked []string
		stop := make(chan struct{})
		failures := make(chan error, 8)
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					sid := fmt.Sprintf("SM%02d%030d", w, i)
					if code := postSMS(harness.Client, p.URL, sid, fmt.Sprintf("+39347%02d%05d", w, i), "segnalo una buca in via Roma, "+sid); code != http.StatusOK {
						failures <- fmt.Errorf("SMS %s: status %d (0: no answer)", sid, code)
						return
					}
					mu.Lock()
					acked = append(acked, sid)
					mu.Unlock()
				}
			}()
		}
		ackedCount := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
		deadline := time.Now().Add(30 * time.Second)
		for ackedCount() < 200 {
			if time.Now().After(deadline) {
				t.Fatalf("%d SMS acknowledged in 30 s\n%s", ackedCount(), p.Output())
			}
			time.Sleep(5 * time.Millisecond)
		}
		mu.Lock()
		before := append([]string(nil), acked...)
		mu.Unlock()
		out, err = exec.Command(bin, "backup", "--config", cfg, "--out", snapshot, "--format", "json").Output()
		during := ackedCount() - len(before)
		close(stop)
		wg.Wait()
		close(failures)
		for err := range failures {
			t.Fatal(err)
		}
		if err != nil {
			t.Fatalf("backup while serving: %v\n%s", err, out)
		}
		var reported struct {
			Path          string `json:"path"`
			Contacts      int    `json:"contacts"`
			SchemaVersion int    `json:"schema_version"`
		}
		if err := json.Unmarshal(out, &reported); err != nil || reported.Path != snapshot {
			t.Fatalf("backup printed %q: %v", out, err)
		}
		if during == 0 {
			t.Fatal("no SMS was acknowledged while the backup ran")
		}
		if fi, err := os.Stat(snapshot); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("the snapshot: %v %v", fi, err)
		}
		if err := p.Stop(t); err != nil {
			t.Fatalf("graceful stop: %v\n%s", err, p.Output())
		}

		// The restore the README describes: the snapshot alone as sportello.db of a data folder.
		restored := filepath.Join(t.TempDir(), "data")
		if err := os.Mkdir(restored, 0o700); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(snapshot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(store.SQLiteFile(restored), b, 0o600); err != nil {
			t.Fatal(err)
		}
		addr2 := harness.FreePort(t)
		cfg2 := harness.WriteConfig(t, t.TempDir(), harness.ConfigYAML(harness.Options{}, restored, ""), addr2)
		p2 := harness.StartProcess(t, cfg2, addr2)
		seen := map[string]bool{}
		for cursor := ""; ; {
			var page struct {
				Items []struct {
					ExternalID string `json:"external_id"`
				} `json:"items"`
				NextCursor string `json:"next_cursor"`
			}
			if code := harness.API(t, "GET", p2.URL+"/api/v1/contacts?limit=200&cursor="+url.QueryEscape(cursor), token, nil, &page); code != 200 {
				t.Fatalf("contacts on the restored server with the token made before the backup: %d\n%s", code, p2.Output())
			}
			for _, c := range page.Items {
				seen[c.ExternalID] = true
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		for _, sid := range before {
			if !seen[sid] {
				t.Fatalf("%s was acknowledged before the backup and is not on the restored server", sid)
			}
		}
		if len(seen) != reported.Contacts {
			t.Fatalf("the restored server lists %d contacts, the backup reported %d", len(seen), reported.Contacts)
		}
		if err := p2.Stop(t); err != nil {
			t.Fatalf("graceful stop of the restored server: %v\n%s", err, p2.Output())
		}
		t.Logf("%d SMS acknowledged before the backup, %d while it ran; %d contacts restored (schema %d)",
			len(before), during, len(seen), reported.SchemaVersion)
	})
}
