package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/sportello/sportello/adapters/email/mailparse"
	"github.com/sportello/sportello/channels"
)

// relayBackend is a fake relay: it records envelopes and data, and fails as told.
type relayBackend struct {
	mu       sync.Mutex
	got      []relayed
	rcptErr  error
	dataErr  error
	user     string
	password string
}

type relayed struct {
	from, to string
	data     []byte
	authed   bool
}

func (b *relayBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &relaySession{b: b}, nil
}

type relaySession struct {
	b        *relayBackend
	from, to string
	authed   bool
}

func (s *relaySession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *relaySession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.b.user || password != s.b.password {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}
func (s *relaySession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if s.b.rcptErr != nil {
		return s.b.rcptErr
	}
	s.to = to
	return nil
}
func (s *relaySession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if s.b.dataErr != nil {
		return s.b.dataErr
	}
	s.b.got = append(s.b.got, relayed{from: s.from, to: s.to, data: data, authed: s.authed})
	return nil
}
func (s *relaySession) Reset()        {}
func (s *relaySession) Logout() error { return nil }

func startRelay(t *testing.T, b *relayBackend, tlsConfig *tls.Config, implicit bool) string {
	t.Helper()
	srv := smtp.NewServer(b)
	srv.Domain = "relay.test"
	srv.AllowInsecureAuth = true
	srv.TLSConfig = tlsConfig
	srv.ErrorLog = slogPrinter{quietLogger()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicit {
		ln = tls.NewListener(ln, tlsConfig)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

func (b *relayBackend) messages() []relayed {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]relayed(nil), b.got...)
}

func TestRelayBuildsAProperUTF8Message(t *testing.T) {
	b := &relayBackend{}
	addr := startRelay(t, b, nil, false)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	s, err := NewRelaySender(RelayOptions{Addr: addr, From: "Linea Comune <noreply@055055.example>", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	body := "Gentile cittadina,\nla multa è già stata annullata: può verificare lo stato sul portale.\nCordiali saluti,\nL'Ufficio Relazioni con il Pubblico — Comune di Firenze\n" +
		strings.Repeat("Una riga molto lunga che supera settantasei caratteri e va spezzata dal quoted-printable. ", 3)
	res, err := s.Send(context.Background(), channels.OutboundMessage{Channel: channels.Email, To: "Anna Perugini <Anna.Perugini@example.it>",
		Subject: "Re: Contravvenzione n. 1234 — richiesta di annullamento", Body: body, InReplyTo: "<orig@example.it>",
		References:  []string{"first@example.it", "<orig@example.it>"},
		Attachments: []channels.Attachment{{Filename: "ricevuta pagamento è.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 fake")}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(res.ExternalID, "@055055.example") || strings.ContainsAny(res.ExternalID, "<>") {
		t.Fatalf("message id %q", res.ExternalID)
	}
	got := b.messages()
	if len(got) != 1 || got[0].from != "noreply@055055.example" || got[0].to != "Anna.Perugini@example.it" {
		t.Fatalf("envelope: %+v", got)
	}
	raw := got[0].data
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("line over 998 octets")
		}
	}
	if bytes.ContainsAny(raw, "èà—") {
		t.Fatal("non-ASCII bytes in the raw message: headers and body must be encoded")
	}
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := mr.Header
	subj, _ := h.Subject()
	mid, _ := h.MessageID()
	irt, _ := h.MsgIDList("In-Reply-To")
	refs, _ := h.MsgIDList("References")
	date, _ := h.Date()
	from, _ := h.AddressList("From")
	if subj != "Re: Contravvenzione n. 1234 — richiesta di annullamento" || mid != res.ExternalID || len(irt) != 1 || irt[0] != "orig@example.it" ||
		len(refs) != 2 || refs[0] != "first@example.it" || refs[1] != "orig@example.it" || !date.Equal(now) ||
		len(from) != 1 || from[0].Name != "Linea Comune" {
		t.Fatalf("headers: %q %q %v %v %v %v", subj, mid, irt, refs, date, from)
	}
	// Our own parser reads back what we wrote.
	in, err := mailparse.Parse(bytes.NewReader(raw), mailparse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(in.Body) != strings.TrimSpace(body) {
		t.Fatalf("body round trip:\n%q\n%q", in.Body, body)
	}
	if len(in.Attachments) != 1 || in.Attachments[0].Filename != "ricevuta pagamento è.pdf" || string(in.Attachments[0].Data) != "%PDF-1.4 fake" {
		t.Fatalf("attachment round trip: %+v", in.Attachments)
	}
	if !strings.Contains(string(raw), "charset=utf-8") || !strings.Contains(string(raw), "quoted-printable") {
		t.Fatal("text part must be utf-8 quoted-printable")
	}
}

func TestRelayPlainMessageKeepsGivenMessageID(t *testing.T) {
	b := &relayBackend{}
	addr := startRelay(t, b, nil, false)
	s, err := NewRelaySender(RelayOptions{Addr: addr, From: "noreply@055055.example"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Send(context.Background(), channels.OutboundMessage{To: "a@example.it", From: "URP Firenze <urp@comune.fi.it>",
		Subject: "Risposta", Body: "Città: Firenze", MessageID: "<our-1@comune.fi.it>"})
	if err != nil || res.ExternalID != "our-1@comune.fi.it" {
		t.Fatalf("%+v %v", res, err)
	}
	got := b.messages()
	if got[0].from != "urp@comune.fi.it" {
		t.Fatalf("envelope from %q", got[0].from)
	}
	in, err := mailparse.Parse(bytes.NewReader(got[0].data), mailparse.Options{})
	if err != nil || in.Body != "Città: Firenze" || in.MessageID != "our-1@comune.fi.it" || in.FromName != "URP Firenze" {
		t.Fatalf("%+v %v", in, err)
	}
}

func TestRelayErrorsAreClassified(t *testing.T) {
	ctx := context.Background()
	out := channels.OutboundMessage{To: "a@example.it", Subject: "x", Body: "y"}
	check := func(name string, err error, permanent bool, code int) {
		t.Helper()
		var se *channels.SendError
		if !errors.As(err, &se) || se.Permanent != permanent || se.Code != code {
			t.Errorf("%s: want SendError{Permanent: %v, Code: %d}, got %#v", name, permanent, code, err)
		}
	}
	b := &relayBackend{rcptErr: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}}
	addr := startRelay(t, b, nil, false)
	s, _ := NewRelaySender(RelayOptions{Addr: addr, From: "noreply@055055.example", Timeout: 2 * time.Second})
	_, err := s.Send(ctx, out)
	check("550 at RCPT", err, true, 550)

	b.mu.Lock()
	b.rcptErr = nil
	b.dataErr = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try later"}
	b.mu.Unlock()
	_, err = s.Send(ctx, out)
	check("451 after DATA", err, false, 451)

	// Nobody listening: temporary.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	s2, _ := NewRelaySender(RelayOptions{Addr: dead, From: "noreply@055055.example", Timeout: 2 * time.Second})
	_, err = s2.Send(ctx, out)
	check("connection refused", err, false, 0)

	// A relay that accepts the connection and says nothing: temporary, within the timeout.
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	go func() {
		for {
			c, err := mute.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	s3, _ := NewRelaySender(RelayOptions{Addr: mute.Addr().String(), From: "noreply@055055.example", Timeout: 300 * time.Millisecond})
	start := time.Now()
	_, err = s3.Send(ctx, out)
	check("silent relay", err, false, 0)
	if time.Since(start) > 3*time.Second {
		t.Errorf("timeout not honoured: %s", time.Since(start))
	}

	// A bad recipient is the caller's fault: permanent, and nothing is sent.
	_, err = s.Send(ctx, channels.OutboundMessage{To: "not an address", Body: "x"})
	check("bad address", err, true, 0)
	_, err = s.Send(ctx, channels.OutboundMessage{To: "a@example.it", Attachments: []channels.Attachment{{Filename: "x", URL: "http://x"}}})
	check("attachment without data", err, true, 0)
}

func TestRelayAuthAndTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	clientTLS := &tls.Config{RootCAs: pool}
	out := channels.OutboundMessage{To: "a@example.it", Subject: "x", Body: "y"}
	for _, mode := range []string{"starttls", "tls"} {
		b := &relayBackend{user: "sportello", password: "s3greto"}
		addr := startRelay(t, b, serverTLS, mode == "tls")
		s, err := NewRelaySender(RelayOptions{Addr: addr, From: "noreply@055055.example", TLS: mode, TLSConfig: clientTLS,
			Username: "sportello", Password: "s3greto", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Send(context.Background(), out); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if got := b.messages(); len(got) != 1 || !got[0].authed {
			t.Fatalf("%s: %+v", mode, got)
		}
		bad, _ := NewRelaySender(RelayOptions{Addr: addr, From: "noreply@055055.example", TLS: mode, TLSConfig: clientTLS,
			Username: "sportello", Password: "wrong", Timeout: 5 * time.Second})
		_, err = bad.Send(context.Background(), out)
		var se *channels.SendError
		if !errors.As(err, &se) || !se.Permanent || se.Code != 535 {
			t.Fatalf("%s wrong password: %#v", mode, err)
		}
	}
	// A certificate the client does not trust is refused.
	b := &relayBackend{}
	addr := startRelay(t, b, serverTLS, false)
	s, _ := NewRelaySender(RelayOptions{Addr: addr, From: "noreply@055055.example", TLS: "starttls", Timeout: 5 * time.Second})
	if _, err := s.Send(context.Background(), out); err == nil || len(b.messages()) != 0 {
		t.Fatalf("untrusted certificate: %v", err)
	}
}

func TestRelayOptionsAreValidated(t *testing.T) {
	for name, o := range map[string]RelayOptions{
		"addr": {Addr: "relay", From: "a@b.it"},
		"tls":  {Addr: "relay:25", From: "a@b.it", TLS: "ssl"},
		"from": {Addr: "relay:25", From: "not an address"},
	} {
		if _, err := NewRelaySender(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
