package integration

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store/storetest"
)

// dovecotConf is ../shared/dovecot-test.conf: a private Dovecot run as root, a passwd-file
// user, maildirs under DIR, IMAP on a loopback PORT.
const dovecotConf = `base_dir = DIR/run
state_dir = DIR/state
log_path = DIR/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:DIR/mail/%u
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = passwd-file
  args = scheme=PLAIN DIR/users
}
userdb {
  driver = passwd-file
  args = DIR/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = PORT
  }
  inet_listener imaps {
    port = 0
  }
}
`

// dovecot is a real Dovecot started for one test, with user urp/secret.
type dovecot struct {
	t    *testing.T
	bin  string
	dir  string
	conf string
	Addr string
}

const dovecotUser, dovecotPassword = "urp", "secret"

// startDovecot starts a private Dovecot; missing, it skips the test (fails it under CI=true).
func startDovecot(t *testing.T) *dovecot {
	t.Helper()
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		bin, err = exec.LookPath("/usr/sbin/dovecot")
	}
	storetest.RequirePeer(t, "dovecot (apt-get install -y dovecot-imapd)", err)
	// The dovecot user must be able to read the config and the users file: not t.TempDir (0700).
	dir, err := os.MkdirTemp("", "sportello-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"run", "state", "mail", "home"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, sub := range []string{"mail", "home"} {
		if err := os.Chown(filepath.Join(dir, sub), 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	users := fmt.Sprintf("%s:{PLAIN}%s:65534:65534::%s/home/%s\n", dovecotUser, dovecotPassword, dir, dovecotUser)
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte(users), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := harness.FreePort(t)
	_, port, _ := net.SplitHostPort(addr)
	conf := strings.ReplaceAll(strings.ReplaceAll(dovecotConf, "DIR", dir), "PORT", port)
	d := &dovecot{t: t, bin: bin, dir: dir, conf: filepath.Join(dir, "dovecot.conf"), Addr: addr}
	if err := os.WriteFile(d.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Stop()
		_ = os.RemoveAll(dir)
	})
	d.Start()
	return d
}

// Start runs dovecot and waits until it accepts IMAP connections.
func (d *dovecot) Start() {
	d.t.Helper()
	// Dovecot daemonizes and its children inherit stdout: a pipe would never close, so its
	// output goes to a file.
	out, err := os.OpenFile(filepath.Join(d.dir, "start.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		d.t.Fatal(err)
	}
	cmd := exec.Command(d.bin, "-c", d.conf)
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Run()
	out.Close()
	if err != nil {
		started, _ := os.ReadFile(filepath.Join(d.dir, "start.out"))
		log, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
		d.t.Fatalf("dovecot: %v\n%s\n%s", err, started, log)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", d.Addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
			d.t.Fatalf("dovecot did not listen on %s: %v\n%s", d.Addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends dovecot and waits for its master to exit (about 2.5 s); starting again sooner fails.
func (d *dovecot) Stop() {
	d.t.Helper()
	b, err := os.ReadFile(filepath.Join(d.dir, "run", "master.pid"))
	if err != nil {
		return // not running
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		d.t.Fatalf("dovecot pid file: %q", b)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		d.t.Fatalf("stopping dovecot: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			d.t.Fatalf("dovecot (pid %d) did not exit", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = os.Remove(filepath.Join(d.dir, "run", "master.pid"))
}

// Client is a second IMAP session on the mailbox, as a mail client would have.
func (d *dovecot) Client() *imapclient.Client {
	d.t.Helper()
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		d.t.Fatal(err)
	}
	if err := c.Login(dovecotUser, dovecotPassword).Wait(); err != nil {
		_ = c.Close()
		d.t.Fatal(err)
	}
	return c
}

// Deliver appends a message to a folder, the way the MTA's delivery would put it there.
func (d *dovecot) Deliver(folder, msg string) {
	d.t.Helper()
	c := d.Client()
	defer func() { _ = c.Close() }()
	cmd := c.Append(folder, int64(len(msg)), nil)
	if _, err := cmd.Write([]byte(msg)); err != nil {
		d.t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		d.t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		d.t.Fatal(err)
	}
}

// Flags lists each message's flags in a folder, by UID.
func (d *dovecot) Flags(folder string) map[imap.UID][]imap.Flag {
	d.t.Helper()
	c := d.Client()
	defer func() { _ = c.Close() }()
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		d.t.Fatal(err)
	}
	out := map[imap.UID][]imap.Flag{}
	if sel.NumMessages == 0 {
		return out
	}
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil {
		d.t.Fatal(err)
	}
	for _, m := range msgs {
		out[m.UID] = m.Flags
	}
	return out
}
