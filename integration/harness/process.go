package harness

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Process is the real sportello binary running `serve` in a subprocess.
type Process struct {
	Cmd        *exec.Cmd
	URL        string
	ConfigPath string
	mu         sync.Mutex
	out        bytes.Buffer
	exited     chan struct{} // closed once the process has been waited for
	waitErr    error
}

// FreePort returns a loopback address that was free a moment ago.
func FreePort(t testing.TB) string {
	t.Helper()
	return FreePorts(t, 1)[0]
}

// FreePorts returns n distinct free loopback addresses, for one process that listens on several:
// each port is held until all are chosen, since a port just closed can be handed out again (two
// calls of FreePort gave a README test's HTTP and SMTP servers the same port).
func FreePorts(t testing.TB, n int) []string {
	t.Helper()
	addrs := make([]string, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs
}

// WriteConfig writes a config file for a subprocess gateway listening on addr; yaml must have
// http.listen 127.0.0.1:0, which is replaced.
func WriteConfig(t testing.TB, dir, yaml, addr string) string {
	t.Helper()
	path := filepath.Join(dir, "sportello.yaml")
	yaml = replaceOnce(yaml, "listen: 127.0.0.1:0", "listen: "+addr)
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func replaceOnce(s, old, new string) string {
	if i := bytes.Index([]byte(s), []byte(old)); i >= 0 {
		return s[:i] + new + s[i+len(old):]
	}
	return s
}

// StartProcess runs `sportello serve --config path` and waits until /readyz answers 200.
func StartProcess(t testing.TB, configPath, addr string, env ...string) *Process {
	t.Helper()
	p := LaunchProcess(t, configPath, addr, env...)
	if err := p.WaitReady(60 * time.Second); err != nil {
		t.Fatalf("sportello did not become ready: %v\n%s", err, p.Output())
	}
	return p
}

// LaunchProcess runs `sportello serve --config path` without waiting for it (several replicas
// can then start at once); WaitReady waits.
func LaunchProcess(t testing.TB, configPath, addr string, env ...string) *Process {
	t.Helper()
	p := &Process{ConfigPath: configPath, URL: "http://" + addr}
	p.Cmd = exec.Command(Binary(t), "serve", "--config", configPath)
	p.Cmd.Env = append(os.Environ(), env...)
	p.Cmd.Stdout = &lockedWriter{p: p}
	p.Cmd.Stderr = &lockedWriter{p: p}
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.exited = make(chan struct{})
	go func() {
		p.waitErr = p.Cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.Cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// WaitReady waits until /readyz answers 200, or the process exits, or d passes.
func (p *Process) WaitReady(d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		resp, err := Client.Get(p.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if p.Exited() {
			return fmt.Errorf("exited: %v", p.waitErr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready within %v", d)
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

type lockedWriter struct{ p *Process }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}

// Output is what the process printed so far.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Kill sends SIGKILL: no shutdown, no flush, like a power cut of the process.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		<-p.exited
		t.Fatalf("kill %s: %v (it had ended by itself: %v)\n%s", p.URL, err, p.waitErr, p.Output())
	}
	<-p.exited
}

// Stop sends SIGTERM and waits for a graceful exit.
func (p *Process) Stop(t testing.TB) error {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-p.exited:
		return p.waitErr
	case <-time.After(30 * time.Second):
		_ = p.Cmd.Process.Kill()
		return fmt.Errorf("no graceful exit within 30s")
	}
}
