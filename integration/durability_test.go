package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// TestKillNineLosesNothingAcknowledged fires signed SMS webhooks at the real binary, kills it
// with SIGKILL in the middle, restarts it, and checks that every webhook that got its 200 is
// stored — and that redelivering all of them (as Twilio retries) creates no duplicates.
func TestKillNineLosesNothingAcknowledged(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		dir := t.TempDir()
		dbURL := storetest.NewDatabaseURL(t, d)
		addr := harness.FreePort(t)
		cfgPath := harness.WriteConfig(t, dir, harness.ConfigYAML(harness.Options{}, filepath.Join(dir, "data"), dbURL), addr)
		p := harness.StartProcess(t, cfgPath, addr)

		const total = 400
		var acked sync.Map
		var nAcked atomic.Int64
		sent := make(chan int, total)
		for i := 0; i < total; i++ {
			sent <- i
		}
		close(sent)
		var wg sync.WaitGroup
		client := &http.Client{Timeout: 10 * time.Second}
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range sent {
					sid := fmt.Sprintf("SM%032d", i)
					form := harness.SMSForm(sid, fmt.Sprintf("+39347%07d", i), "+39055055", "messaggio "+sid)
					req, _ := http.NewRequest("POST", p.URL+"/webhooks/twilio/sms", strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("X-Twilio-Signature", harness.Signature(harness.AuthToken, harness.PublicURL+"/webhooks/twilio/sms", form))
					resp, err := client.Do(req)
					if err != nil {
						continue // the process died under us: not acknowledged
					}
					resp.Body.Close()
					if resp.StatusCode == 200 {
						acked.Store(sid, true)
						nAcked.Add(1)
					}
				}
			}()
		}
		// Kill once a good part has been acknowledged. A server that has not taken a third of
		// the load in 30 s fails the test: killed then, the check below would prove little
		// (with nothing acknowledged, nothing at all).
		deadline := time.Now().Add(30 * time.Second)
		for nAcked.Load() < total/3 && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		beforeKill := nAcked.Load()
		p.Kill(t)
		wg.Wait()
		if beforeKill < total/3 {
			t.Fatalf("only %d of %d webhooks acknowledged within 30 s, want at least %d before the kill\n%s", beforeKill, total, total/3, p.Output())
		}
		killedAt := nAcked.Load()

		p2 := harness.StartProcess(t, cfgPath, addr)
		s, err := store.Open(context.Background(), store.Options{URL: dbURL, DataDir: filepath.Join(dir, "data")})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = s.Close() }()
		missing := 0
		acked.Range(func(k, _ any) bool {
			if _, err := s.ContactIDByExternal(context.Background(), "sms", k.(string)); err != nil {
				missing++
			}
			return true
		})
		if missing > 0 {
			t.Fatalf("%d of %d acknowledged webhooks are missing after kill -9", missing, killedAt)
		}
		// Twilio redelivers what it did not get an answer for: everything, once more.
		for i := 0; i < total; i++ {
			sid := fmt.Sprintf("SM%032d", i)
			form := harness.SMSForm(sid, fmt.Sprintf("+39347%07d", i), "+39055055", "messaggio "+sid)
			if resp, body := harness.PostTwilio(t, p2.URL, "/webhooks/twilio/sms", form); resp.StatusCode != 200 {
				t.Fatalf("redelivery %s: %d %s", sid, resp.StatusCode, body)
			}
		}
		if n, _ := s.CountMessages(context.Background(), "inbound"); n != total {
			t.Fatalf("after redelivery: %d messages, want exactly %d", n, total)
		}
		if err := p2.Stop(t); err != nil {
			t.Fatalf("graceful stop: %v\n%s", err, p2.Output())
		}
		t.Logf("%s: %d acknowledged before kill -9, none lost, %d after redelivery", d, killedAt, total)
	})
}

func TestBrokenConfigExitsNonZero(t *testing.T) {
	bin := harness.Binary(t)
	dir := t.TempDir()
	cases := map[string]string{
		"timezone: Nowhere/Land\ncomuni: [{id: a, name: A}]":                       "timezone",
		"comuni: [{id: a, name: A}]\nhttp: {listen: nocolon}":                      "http.listen",
		"comuni: [{id: a, name: A, phone_numbers: [\"notanumber\"]}]":              "comuni[0].phone_numbers[0]",
		"comuni: [{id: a, name: A}\n":                                              "config",
		"comuni: [{id: a, name: A}]\nimap: [{comune: a, address: x, username: u}]": "imap[0].address",
	}
	for yml, key := range cases {
		path := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve", "--config", path)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("%q: exit 0", yml)
			continue
		}
		if !strings.Contains(string(out), key) {
			t.Errorf("%q: output does not name %q:\n%s", yml, key, out)
		}
	}
	if out, err := exec.Command(bin, "serve", "--config", filepath.Join(dir, "missing.yaml")).CombinedOutput(); err == nil || !strings.Contains(string(out), "missing.yaml") {
		t.Errorf("missing file: %v %s", err, out)
	}
}

// TestCLIUserAndToken creates a user and a token through the binary while no server runs,
// and uses the token against a server started afterwards on the same database.
func TestCLIUserAndToken(t *testing.T) {
	bin := harness.Binary(t)
	dir := t.TempDir()
	addr := harness.FreePort(t)
	cfgPath := harness.WriteConfig(t, dir, harness.ConfigYAML(harness.Options{}, filepath.Join(dir, "data"), ""), addr)
	p := harness.StartProcess(t, cfgPath, addr)
	// While serve runs against the same SQLite database.
	add := exec.Command(bin, "user", "add", "--config", cfgPath, "--username", "anna", "--role", "operator", "--comune", "firenze", "--name", "Anna")
	add.Stdin = strings.NewReader("una-password-lunga\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	dup := exec.Command(bin, "user", "add", "--config", cfgPath, "--username", "anna", "--role", "operator")
	dup.Stdin = strings.NewReader("una-password-lunga\n")
	if out, err := dup.CombinedOutput(); err == nil || !strings.Contains(string(out), "exists") {
		t.Fatalf("duplicate user: %v %s", err, out)
	}
	bad := exec.Command(bin, "user", "add", "--config", cfgPath, "--username", "x", "--role", "emperor")
	bad.Stdin = strings.NewReader("una-password-lunga\n")
	if err := bad.Run(); err == nil {
		t.Fatal("unknown role accepted")
	}
	out, err := exec.Command(bin, "token", "create", "--config", cfgPath, "--username", "anna").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	token := lines[len(lines)-1]
	if code := harness.API(t, "GET", p.URL+"/api/v1/contacts", token, nil, nil); code != 200 {
		t.Fatalf("token from the CLI: %d", code)
	}
}

// TestProbeCommand is the container's health check: 0 when /readyz answers 200, else not.
func TestProbeCommand(t *testing.T) {
	bin := harness.Binary(t)
	dir := t.TempDir()
	addr := harness.FreePort(t)
	cfgPath := harness.WriteConfig(t, dir, harness.ConfigYAML(harness.Options{}, filepath.Join(dir, "data"), ""), addr)
	if err := exec.Command(bin, "probe", "--url", "http://"+addr+"/readyz").Run(); err == nil {
		t.Fatal("probe succeeded with no server")
	}
	harness.StartProcess(t, cfgPath, addr)
	if out, err := exec.Command(bin, "probe", "--config", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("probe of a ready gateway: %v %s", err, out)
	}
}
