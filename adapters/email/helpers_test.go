package email

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
)

// memSink stores messages in memory, deduplicating by ExternalID like the real store. hook,
// when set, runs before a message is stored and may fail it.
type memSink struct {
	mu    sync.Mutex
	msgs  []channels.InboundMessage
	seen  map[string]bool
	calls int
	hook  func(in channels.InboundMessage) error
}

func newMemSink() *memSink { return &memSink{seen: map[string]bool{}} }

func (s *memSink) Receive(ctx context.Context, in channels.InboundMessage) (channels.Receipt, error) {
	s.mu.Lock()
	s.calls++
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		if err := hook(in); err != nil {
			return channels.Receipt{}, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.ExternalID != "" && s.seen[in.ExternalID] {
		return channels.Receipt{Duplicate: true}, nil
	}
	s.seen[in.ExternalID] = true
	s.msgs = append(s.msgs, in)
	return channels.Receipt{ContactID: fmt.Sprint(len(s.msgs)), New: true}, nil
}

func (s *memSink) setHook(f func(channels.InboundMessage) error) {
	s.mu.Lock()
	s.hook = f
	s.mu.Unlock()
}

func (s *memSink) stored() []channels.InboundMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]channels.InboundMessage(nil), s.msgs...)
}

func (s *memSink) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// italianMail is a small realistic message.
func italianMail(id, from, to, subject, body string) string {
	return strings.Join([]string{
		"From: Mario Rossi <" + from + ">",
		"To: " + to,
		"Subject: " + subject,
		"Date: Fri, 27 Nov 2026 09:15:00 +0100",
		"Message-ID: <" + id + ">",
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: 8bit",
		"",
		body,
		"",
	}, "\r\n")
}

var errStoreDown = errors.New("database unavailable")
