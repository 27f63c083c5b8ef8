package email

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/sportello/sportello/channels"
)

// fakeDNS answers TXT lookups from a map. With temp set every lookup fails as an unreachable
// server does; a name in tempNames fails so alone (a SERVFAIL its owner can cause).
type fakeDNS struct {
	txt       map[string][]string
	temp      bool
	tempNames map[string]bool
}

func (f *fakeDNS) failsTemporarily(name string) bool {
	return f.temp || f.tempNames[strings.TrimSuffix(strings.ToLower(name), ".")]
}

func (f *fakeDNS) err(name string) error {
	if f.failsTemporarily(name) {
		return &net.DNSError{Err: "i/o timeout", Name: name, IsTimeout: true, IsTemporary: true}
	}
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (f *fakeDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	if v, ok := f.txt[strings.TrimSuffix(strings.ToLower(name), ".")]; ok && !f.failsTemporarily(name) {
		return v, nil
	}
	return nil, f.err(name)
}
func (f *fakeDNS) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	return nil, f.err(name)
}
func (f *fakeDNS) LookupIPAddr(_ context.Context, name string) ([]net.IPAddr, error) {
	return nil, f.err(name)
}
func (f *fakeDNS) LookupAddr(_ context.Context, addr string) ([]string, error) {
	return nil, f.err(addr)
}

const plainMail = "From: Anna <anna@example.it>\r\nTo: urp@comune.fi.it\r\nSubject: Buca\r\nMessage-ID: <x@example.it>\r\n\r\nC'è una buca.\r\n"

func TestSenderCheckSPF(t *testing.T) {
	dns := &fakeDNS{txt: map[string][]string{
		"example.it":         {"v=spf1 ip4:192.0.2.0/24 -all"},
		"bounces.example.it": {"v=spf1 ip4:192.0.2.0/24 -all"},
		"evil.example":       {"v=spf1 ip4:198.51.100.0/24 -all"},
	}}
	c := &SenderChecker{Resolver: dns}
	ctx := context.Background()
	for _, tc := range []struct {
		name, ip, envelope, from string
		want                     channels.SenderCheck
	}{
		{"spf pass, same domain", "192.0.2.7", "anna@example.it", "anna@example.it", channels.SenderPass},
		{"spf pass, aligned subdomain", "192.0.2.7", "b@bounces.example.it", "anna@example.it", channels.SenderPass},
		{"spf fail: forged From from a stranger's host", "203.0.113.9", "anna@example.it", "anna@example.it", channels.SenderFail},
		// Nothing passed for example.it, and it publishes no DMARC record to say what that means.
		{"spf pass for the spammer's own domain, not aligned", "198.51.100.1", "x@evil.example", "anna@example.it", channels.SenderNone},
		{"no SPF record, no DKIM", "192.0.2.7", "a@nospf.example", "a@nospf.example", channels.SenderNone},
	} {
		if got := c.Check(ctx, net.ParseIP(tc.ip), "mx.example", tc.envelope, tc.from, []byte(plainMail)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	dns.temp = true
	if got := c.Check(ctx, net.ParseIP("192.0.2.7"), "mx.example", "anna@example.it", "anna@example.it", []byte(plainMail)); got != channels.SenderDNSUnavailable {
		t.Errorf("DNS unreachable: %q", got)
	}
}

func TestSenderCheckDKIM(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var signed bytes.Buffer
	if err := dkim.Sign(&signed, strings.NewReader(plainMail), &dkim.SignOptions{Domain: "example.it", Selector: "s1", Signer: priv}); err != nil {
		t.Fatal(err)
	}
	dns := &fakeDNS{txt: map[string][]string{
		"s1._domainkey.example.it": {"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)},
		"_dmarc.example.it":        {"v=DMARC1; p=reject; adkim=s"},
	}}
	c := &SenderChecker{Resolver: dns}
	ctx := context.Background()
	// Read over IMAP: no client address, so DKIM alone decides.
	if got := c.Check(ctx, nil, "", "anna@example.it", "anna@example.it", signed.Bytes()); got != channels.SenderPass {
		t.Errorf("signed mail: %q", got)
	}
	// A broken signature is no pass; over IMAP (no client address, so no SPF) it is no
	// hard fail either, whatever the DMARC policy: SPF might have passed.
	tampered := bytes.Replace(signed.Bytes(), []byte("buca"), []byte("frana"), 1)
	if got := c.Check(ctx, nil, "", "anna@example.it", "anna@example.it", tampered); got != channels.SenderNone {
		t.Errorf("tampered mail: %q", got)
	}
	// Strict DKIM alignment: a signature of example.it does not vouch for a subdomain's From.
	if got := c.Check(ctx, nil, "", "a@uff.example.it", "a@uff.example.it", signed.Bytes()); got != channels.SenderNone {
		t.Errorf("unaligned under adkim=s: %q", got)
	}
}

func TestReturnPath(t *testing.T) {
	for raw, want := range map[string]string{
		"Return-Path: <Anna@Example.it>\r\nFrom: x@y.it\r\n\r\nbody": "anna@example.it",
		"Return-Path: <>\r\nFrom: x@y.it\r\n\r\nbody":                "",
		"From: x@y.it\r\n\r\nReturn-Path: <a@b.it>\r\n":              "",
	} {
		if got := returnPath([]byte(raw)); got != want {
			t.Errorf("returnPath(%q) = %q, want %q", raw, got, want)
		}
	}
}

// FuzzReturnPath: whatever the header, the envelope sender found is "" or a lower-case
// address.
func FuzzReturnPath(f *testing.F) {
	for _, s := range []string{"Return-Path: <a@b.it>\r\n\r\n", "Return-Path: <>\r\n\r\n", "From: x\r\n\r\nReturn-Path: <c@d.it>",
		"return-path:a@b.it\n\nx", "Return-Path: <\"a b\"@c.it>\r\n\r\n", "\r\n\r\nReturn-Path: <e@f.it>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := returnPath([]byte(raw))
		if got == "" {
			return
		}
		if got != strings.ToLower(got) || !strings.Contains(got, "@") {
			t.Fatalf("returnPath(%q) = %q", raw, got)
		}
	})
}
