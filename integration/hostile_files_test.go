package integration

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sportello/sportello/integration/harness"
)

// TestDataFilesArePrivate runs the real binary on SQLite under the usual umask (022), with a
// data directory an earlier version left world-readable, stores a message so the WAL and its
// index exist, and checks that nobody but the service's user can read anything under data_dir.
func TestDataFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := harness.FreePort(t)
	cfgPath := harness.WriteConfig(t, dir, harness.ConfigYAML(harness.Options{}, data, ""), addr)
	p := harness.StartProcess(t, cfgPath, addr)
	form := harness.SMSForm("SM00000000000000000000000000000001", "+393471234567", "+390552768000", "buongiorno")
	if resp, body := harness.PostTwilio(t, p.URL, "/webhooks/twilio/sms", form); resp.StatusCode != 200 {
		t.Fatalf("sms webhook: %d %s", resp.StatusCode, body)
	}

	check := func(when string) {
		t.Helper()
		seen := map[string]bool{}
		err := filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(data, path)
			seen[rel] = true
			want := fs.FileMode(0o600)
			if d.IsDir() {
				want = 0o700
			}
			if info.Mode().Perm() != want {
				t.Errorf("%s: %s is %v, want %v", when, rel, info.Mode().Perm(), want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{".", "sportello.db", "sportello.db-wal", "sportello.db-shm"} {
			if !seen[f] {
				t.Errorf("%s: %s not found under data_dir (saw %v)", when, f, seen)
			}
		}
	}
	check("while serving")
	if err := p.Stop(t); err != nil {
		t.Fatalf("stop: %v\n%s", err, p.Output())
	}
	// An upgrade: files an earlier version made readable are tightened at the next start.
	if err := os.Chmod(filepath.Join(data, "sportello.db"), 0o644); err != nil {
		t.Fatal(err)
	}
	p = harness.StartProcess(t, cfgPath, addr)
	if resp, body := harness.PostTwilio(t, p.URL, "/webhooks/twilio/sms", harness.SMSForm("SM00000000000000000000000000000002", "+393471234567", "+390552768000", "ancora")); resp.StatusCode != 200 {
		t.Fatalf("sms webhook: %d %s", resp.StatusCode, body)
	}
	check("after a restart")
}
