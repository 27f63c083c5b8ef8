package desk_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sportello/sportello/adapters/email"
	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// stallingRelay is an SMTP relay that takes the first message (it is queued for delivery) and
// then answers its DATA too late: the sender's connection times out awaiting the 250.
type stallingRelay struct {
	mu  sync.Mutex
	got [][]byte
}

func (b *stallingRelay) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &stallingSession{b: b}, nil
}

type stallingSession struct{ b *stallingRelay }

func (s *stallingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *stallingSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *stallingSession) Reset()                               {}
func (s *stallingSession) Logout() error                        { return nil }
func (s *stallingSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	s.b.got = append(s.b.got, data)
	n := len(s.b.got)
	s.b.mu.Unlock()
	if n == 1 {
		time.Sleep(1500 * time.Millisecond) // the 250 comes after the sender gave up
	}
	return nil
}

func (b *stallingRelay) count() int { b.mu.Lock(); defer b.mu.Unlock(); return len(b.got) }

// An email reply the relay took whole, whose answer was lost (a timeout after the data), is
// not sent again by a retry: SMTP has no idempotency, and a fax or a PEC would go out twice.
// It ends failed, saying why, for the operator to resend by hand if it did not arrive.
func TestEmailReplyWhoseRelayAnswerIsLostIsNotSentAgain(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	b := &stallingRelay{}
	srv := smtp.NewServer(b)
	srv.Domain = "relay.test"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	relay, err := email.NewRelaySender(email.RelayOptions{Addr: ln.Addr().String(), From: "Linea Comune <noreply@055055.example>",
		Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, s)
	f.senders[channels.Email] = relay
	ctx := context.Background()
	op := f.user("op", store.RoleOperator)
	r, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "m1@cittadino.example",
		MessageID: "m1@cittadino.example", From: "mario@cittadino.example", To: "urp@comune.fi.it", Subject: "ZTL",
		Body: "la ZTL è attiva?", ReceivedAt: f.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.Reply(ctx, op, r.ContactID, "Sì, fino alle 19:30."); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the reply's send to end", func() bool { return f.lastOutbound(r.ContactID).Status != store.OutQueued })
	f.waitFor("jobs settled", f.jobsSettled)
	if n := b.count(); n != 1 {
		t.Fatalf("the relay got the one reply %d times (same Message-ID): the citizen gets duplicates", n)
	}
	if m := f.lastOutbound(r.ContactID); m.Status != store.OutFailed || !strings.Contains(m.Error, "not sent again automatically") {
		t.Fatalf("reply %q %q, want failed saying it was not sent again", m.Status, m.Error)
	}
}
