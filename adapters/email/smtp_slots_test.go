package email

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// rawSMTP is a line-level client from a chosen loopback address (127.0.0.2 and the rest of
// 127/8 are loopback too: a second client address without a second machine).
type rawSMTP struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialFrom(t *testing.T, ip, addr string) *rawSMTP {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawSMTP{conn: conn, r: bufio.NewReader(conn)}
}

func (c *rawSMTP) line() string {
	l, _ := c.r.ReadString('\n')
	return l
}

// cmd sends one command and returns the reply's last line ("" when the connection is gone).
func (c *rawSMTP) cmd(s string) string {
	if _, err := c.conn.Write([]byte(s + "\r\n")); err != nil {
		return ""
	}
	for {
		l := c.line()
		if len(l) < 4 || l[3] != '-' {
			return l
		}
	}
}

// TestSMTPOneClientCannotHoldEverySlot is the attack of issue 8: one address opens every slot
// and keeps each alive with NOOP. The server must turn its extra connections away, still greet
// and serve a client from another address, and free the NOOP-ers' slots after the idle timeout
// (NOOP is not progress) and any session after its lifetime.
func TestSMTPOneClientCannotHoldEverySlot(t *testing.T) {
	const total, perIP = 20, 5
	idle, lifetime := 1500*time.Millisecond, 4*time.Second
	sink := newMemSink()
	_, addr := startSMTP(t, SMTPOptions{Sink: sink, MaxConnections: total, MaxConnectionsPerIP: perIP,
		IdleTimeout: idle, SessionLifetime: lifetime})

	// The attacker: every slot from 127.0.0.1.
	start := time.Now()
	var held []*rawSMTP
	refused := 0
	for i := 0; i < total; i++ {
		c := dialFrom(t, "127.0.0.1", addr)
		switch g := c.line(); {
		case strings.HasPrefix(g, "220 "):
			held = append(held, c)
		case strings.HasPrefix(g, "421 "):
			refused++
		default:
			t.Fatalf("greeting %q", g)
		}
	}
	if len(held) != perIP || refused != total-perIP {
		t.Fatalf("one address got %d sessions and %d refusals, want %d and %d", len(held), refused, perIP, total-perIP)
	}
	// Each held session sends NOOP every 100 ms until the server closes it.
	closedAfter := make([]time.Duration, len(held))
	var wg sync.WaitGroup
	for i, c := range held {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if r := c.cmd("NOOP"); !strings.HasPrefix(r, "250 ") {
					closedAfter[i] = time.Since(start)
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}

	// Another client, meanwhile, gets its 220 and its 250.
	other := dialFrom(t, "127.0.0.2", addr)
	if g := other.line(); !strings.HasPrefix(g, "220 ") {
		t.Fatalf("a client from another address was greeted %q", g)
	}
	other.conn.Close()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClient(conn)
	msg := italianMail("slots@example.it", "anna@example.it", "urp@comune.fi.it", "Segnalazione", "Lampione spento in via Roma.")
	if err := c.SendMail("anna@example.it", []string{"urp@comune.fi.it"}, strings.NewReader(msg)); err != nil {
		t.Fatalf("a client from another address could not deliver: %v", err)
	}
	_ = c.Close()
	if len(sink.stored()) != 1 {
		t.Fatalf("stored %d messages, want 1", len(sink.stored()))
	}

	// A session that keeps making progress (MAIL, RSET, again) ends at its lifetime.
	busy := dialFrom(t, "127.0.0.3", addr)
	busyStart := time.Now()
	if g := busy.line(); !strings.HasPrefix(g, "220 ") {
		t.Fatalf("greeting %q", g)
	}
	busy.cmd("EHLO busy.example")
	var busyLasted time.Duration
	for {
		if r := busy.cmd("MAIL FROM:<a@example.it>"); !strings.HasPrefix(r, "250 ") {
			busyLasted = time.Since(busyStart)
			break
		}
		busy.cmd("RSET")
		time.Sleep(100 * time.Millisecond)
	}

	wg.Wait()
	for i, d := range closedAfter {
		if d < idle-200*time.Millisecond || d > idle+3*time.Second {
			t.Errorf("NOOP session %d closed after %v, want about the idle timeout %v", i, d, idle)
		}
	}
	if busyLasted < lifetime-500*time.Millisecond || busyLasted > lifetime+3*time.Second {
		t.Errorf("a busy session lasted %v, want about the lifetime %v", busyLasted, lifetime)
	}
	// The slots are free again for the same address.
	again := dialFrom(t, "127.0.0.1", addr)
	if g := again.line(); !strings.HasPrefix(g, "220 ") {
		t.Fatalf("after the timeouts, greeting %q", g)
	}
	t.Logf("NOOP sessions closed after %v; busy session after %v", closedAfter, busyLasted)
}
