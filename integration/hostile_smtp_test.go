package integration

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

// TestSMTPSlotsPerAddressOnTheGateway: with smtp.max_connections_per_ip and smtp.idle_timeout
// set in its config, the running gateway turns away one address's extra connections, greets
// and stores a message from another address meanwhile, and closes a NOOP-only session.
func TestSMTPSlotsPerAddressOnTheGateway(t *testing.T) {
	y := strings.Replace(emailYAML(""), "  max_message_bytes:", "  max_connections_per_ip: 2\n  idle_timeout: 1s\n  max_message_bytes:", 1)
	gw := harness.Start(t, harness.Options{Dialect: store.SQLite, Replace: y})
	addr := gw.G.SMTPAddr()
	token := gw.User(t, "sup-smtp", store.RoleSupervisor)

	dial := func(ip string) (net.Conn, *bufio.Reader, string) {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		r := bufio.NewReader(c)
		line, _ := r.ReadString('\n')
		return c, r, line
	}
	var held []net.Conn
	var readers []*bufio.Reader
	for i := 0; i < 2; i++ {
		c, r, g := dial("127.0.0.1")
		if !strings.HasPrefix(g, "220 ") {
			t.Fatalf("session %d: %q", i, g)
		}
		held, readers = append(held, c), append(readers, r)
	}
	if _, _, g := dial("127.0.0.1"); !strings.HasPrefix(g, "421 ") {
		t.Fatalf("a third session from one address: %q, want 421", g)
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClient(conn)
	if err := c.SendMail("carla@example.it", []string{"urp@comune.fi.it"}, strings.NewReader(
		citizenMail("slots-gw@example.it", "Carla <carla@example.it>", "urp@comune.fi.it", "Lampione", "Lampione spento."))); err != nil {
		t.Fatalf("another address could not deliver: %v", err)
	}
	_ = c.Close()
	if list := contactsOf(t, gw, token, channels.Email); len(list) != 1 {
		t.Fatalf("stored %d contacts", len(list))
	}
	// NOOP is not progress: the held session is closed after the idle timeout.
	start := time.Now()
	for {
		_, _ = held[0].Write([]byte("NOOP\r\n")) // a closed session shows in the read below
		line, err := readers[0].ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "250 ") {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("a NOOP-only session was never closed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("NOOP session closed after %v", time.Since(start))
}
