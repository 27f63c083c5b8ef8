package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/integration/twilioemu"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// runCLI runs the real binary and returns the last line of its stdout.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(harness.Binary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("sportello %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[len(lines)-1]
}

// importNumbers imports n subscribers of Firenze (+39347 and seven digits, from 0) through
// the CLI, as an operator would, and returns their numbers.
func importNumbers(t *testing.T, cfgPath string, n int) []string {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("phone\n")
	numbers := make([]string, n)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("+39347%07d", i)
		csv.WriteString(numbers[i] + "\n")
	}
	csvPath := filepath.Join(t.TempDir(), "iscritti.csv")
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Imported int `json:"imported"`
	}
	if err := json.Unmarshal([]byte(runCLI(t, "subscribers", "import", "--config", cfgPath, "--comune", "firenze", csvPath)), &rep); err != nil || rep.Imported != n {
		t.Fatalf("import: %+v %v", rep, err)
	}
	return numbers
}

// A kill -9 in the middle of a 20,000-recipient fan-out of the real binary, then a restart:
// every recipient gets the alert exactly once.
func TestAlertsKillNineMidFanout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	eachDialectWaitingOnTheClock(t, func(t *testing.T, d store.Dialect) {
		const n = 20000
		start := time.Now()
		step := func(what string) { t.Logf("%6.1fs %s", time.Since(start).Seconds(), what) }
		emu := twilioemu.New(twilioemu.Options{AccountSID: harness.AccountSID, AuthToken: harness.AuthToken, OwnedNumbers: []string{harness.TwilioFrom}})
		twilioURL, err := emu.Start("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = emu.Close() })
		dir := t.TempDir()
		dbURL := ""
		if d == store.Postgres {
			dbURL = storetest.NewDatabaseURL(t, store.Postgres)
		}
		addr := harness.FreePort(t)
		cfgPath := filepath.Join(dir, "sportello.yaml")
		if err := os.WriteFile(cfgPath, []byte(harness.EmulatedYAML(filepath.Join(dir, "data"), dbURL, addr, twilioURL, 2000)), 0o600); err != nil {
			t.Fatal(err)
		}
		// Subscribers and the key through the CLI, as an operator would.
		numbers := importNumbers(t, cfgPath, n)
		step("imported")
		key := runCLI(t, "apikey", "create", "--config", cfgPath, "--comune", "firenze", "--name", "kill test")
		if !strings.HasPrefix(key, "spk_") {
			t.Fatalf("key %q", key)
		}

		p := harness.StartProcess(t, cfgPath, addr)
		step("started")
		code, out := alertCall(t, "POST", p.URL+"/api/v1/alerts", key, map[string]any{"category": "blocco-traffico", "message": "Domani blocco del traffico"}, "")
		if code != 202 || out["recipients"].(float64) != n {
			t.Fatalf("POST alert: %d %v", code, out)
		}
		id := out["id"].(string)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := emu.WaitFor(ctx, n/3); err != nil {
			t.Fatal(err)
		}
		p.Kill(t)
		atKill := emu.Count()
		step(fmt.Sprintf("killed with %d of %d handed to Twilio", atKill, n))
		if atKill >= n {
			t.Fatal("the fan-out finished before the kill")
		}

		p2 := harness.StartProcess(t, cfgPath, addr)
		step("restarted")
		if err := emu.WaitFor(ctx, n); err != nil {
			t.Fatalf("%v\n%s", err, p2.Output())
		}
		step("all handed to Twilio")
		gw := struct{ URL string }{p2.URL}
		deadline := time.Now().Add(90 * time.Second)
		var c alertCounts
		for {
			code, out := alertCall(t, "GET", gw.URL+"/api/v1/alerts/"+id, key, nil, "")
			c = countsOf(out)
			if code == 200 && out["status"] == "sent" && c.Queued == 0 && c.Sending == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after the restart: %d %v\n%s", code, out, p2.Output())
			}
			time.Sleep(200 * time.Millisecond)
		}
		step("alert sent")
		time.Sleep(time.Second) // anything sent twice would arrive now
		if got := emu.Count(); got != n || emu.Duplicates() != 0 {
			t.Fatalf("the emulator holds %d messages for %d recipients, %d duplicates: %v", got, n, emu.Duplicates(), emu.DuplicateList())
		}
		seen := map[string]int{}
		for _, m := range emu.Messages() {
			seen[m.To]++
		}
		for _, num := range numbers {
			if seen[num] != 1 {
				t.Fatalf("%s got the alert %d times", num, seen[num])
			}
		}
		if c.Sent+c.Delivered != n || c.Failed != 0 || c.Cancelled != 0 {
			t.Fatalf("counts %+v", c)
		}
		if err := p2.Stop(t); err != nil {
			t.Fatalf("graceful stop: %v\n%s", err, p2.Output())
		}
	})
}
