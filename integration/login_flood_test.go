package integration

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
)

// TestLoginFloodKeepsMemoryFlat floods the real binary's login form with 60 parallel attempts
// under random usernames, first from one address and then from 60 different ones, for several
// seconds each. Every attempt used to cost its own 64 MiB argon2id hash at once (4 GB, 27 s a
// login). Now the peak resident memory stays under 400 MB and a real user, from another
// address, logs in within 5 s in the middle of the flood.
func TestLoginFloodKeepsMemoryFlat(t *testing.T) {
	dir := t.TempDir()
	addr := harness.FreePort(t)
	cfgPath := harness.WriteConfig(t, dir, harness.ConfigYAML(harness.Options{}, filepath.Join(dir, "data"), ""), addr)
	const password = "una-password-lunga"
	cliUser(t, cfgPath, "maria", password, "operator")
	p := harness.StartProcess(t, cfgPath, addr)
	before := peakRSSMiB(t, p.Cmd.Process.Pid)

	flood := func(name string, sourceOf func(i int) string, during func()) {
		var wg sync.WaitGroup
		stop := make(chan struct{})
		var stopOnce sync.Once
		// halt ends the flood; deferred too, so that a t.Fatal in during() (or in setting up
		// the clients) does not leave 60 goroutines hammering a server that is gone.
		halt := func() {
			stopOnce.Do(func() { close(stop) })
			wg.Wait()
		}
		defer halt()
		var statuses sync.Map
		var total atomic.Int64
		for i := range 60 {
			c := webClient(t, sourceOf(i))
			csrf := loginForm(t, c, p.URL)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					code, _, err := postLogin(c, p.URL, csrf, fmt.Sprintf("nobody-%d", rand.Int64()), "guess-guess", "")
					if err != nil {
						code = -1
					}
					n, _ := statuses.LoadOrStore(code, new(atomic.Int64))
					n.(*atomic.Int64).Add(1)
					total.Add(1)
					if code == http.StatusTooManyRequests {
						// A real attacker would not wait; a short pause keeps this test from
						// measuring its own busy loop on a shared machine.
						time.Sleep(20 * time.Millisecond)
					}
				}
			}()
		}
		time.Sleep(time.Second) // the flood runs a while before during(): the real user comes in its middle
		during()
		halt()
		counts := map[int]int64{}
		statuses.Range(func(k, v any) bool { counts[k.(int)] = v.(*atomic.Int64).Load(); return true })
		t.Logf("%s: %d attempts, by status %v", name, total.Load(), counts)
		if counts[http.StatusUnauthorized] == 0 {
			t.Errorf("%s: no attempt was checked at all", name)
		}
		if counts[-1] > 0 {
			t.Errorf("%s: %d attempts failed at the connection", name, counts[-1])
		}
	}

	realUserLogsIn := func() {
		c := webClient(t, "127.0.0.2")
		start := time.Now()
		csrf := loginForm(t, c, p.URL)
		for {
			code, loc, err := postLogin(c, p.URL, csrf, "maria", password, "")
			if err != nil {
				t.Fatal(err)
			}
			if code == http.StatusSeeOther {
				t.Logf("the real user logged in in %v (to %s)", time.Since(start).Round(time.Millisecond), loc)
				break
			}
			if code != http.StatusTooManyRequests || time.Since(start) > 5*time.Second {
				t.Fatalf("the real user's login: %d after %v", code, time.Since(start))
			}
			time.Sleep(200 * time.Millisecond)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("the real user took %v to log in during the flood", took)
		}
	}

	flood("one address", func(int) string { return "127.0.0.1" }, func() {
		realUserLogsIn()
		time.Sleep(4 * time.Second) // the flood's length: the peak memory is measured over all of it
	})
	flood("60 addresses", func(i int) string { return fmt.Sprintf("127.0.1.%d", 10+i) }, func() {
		time.Sleep(5 * time.Second) // the flood's length: the peak memory is measured over all of it
	})
	peak := peakRSSMiB(t, p.Cmd.Process.Pid)
	t.Logf("peak RSS: %.0f MiB before the floods, %.0f MiB after", before, peak)
	if peak > 400 {
		t.Errorf("peak RSS %.0f MiB over 400 MiB", peak)
	}
}
