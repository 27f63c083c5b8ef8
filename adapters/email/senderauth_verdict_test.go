package email

import (
	"context"
	"net"
	"testing"

	"github.com/sportello/sportello/channels"
)

// forgedVictimMail claims to come from victim.example.
const forgedVictimMail = "From: victim@victim.example\r\nTo: urp@comune.fi.it\r\nSubject: x\r\nMessage-ID: <z@victim.example>\r\n\r\nciao\r\n"

// withBogusSignature prepends a DKIM-Signature of domain d, selector s1, that cannot verify.
func withBogusSignature(d, mail string) []byte {
	return []byte("DKIM-Signature: v=1; a=rsa-sha256; d=" + d + "; s=s1; c=relaxed/relaxed; h=from:to:subject; " +
		"bh=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=; b=AAAA\r\n" + mail)
}

// forgerHost is a client address no victim.example record allows.
var forgerHost = net.ParseIP("203.0.113.9")

// TestSenderCheckUnalignedDKIMTempFailDoesNotLaunderSPFFail: the victim's SPF is -all and the
// forger's host is not in it. A bogus signature with d= a domain of the forger's own, whose
// DNS he makes SERVFAIL, must not turn that permanent fail into dns_unavailable (which the
// closed-hours answer accepts: the answer would go to the forged victim).
func TestSenderCheckUnalignedDKIMTempFailDoesNotLaunderSPFFail(t *testing.T) {
	dns := &fakeDNS{
		txt:       map[string][]string{"victim.example": {"v=spf1 ip4:192.0.2.0/24 -all"}},
		tempNames: map[string]bool{"s1._domainkey.attacker.example": true},
	}
	c := &SenderChecker{Resolver: dns}
	ctx := context.Background()
	if got := c.Check(ctx, forgerHost, "evil", "victim@victim.example", "victim@victim.example", []byte(forgedVictimMail)); got != channels.SenderFail {
		t.Fatalf("unsigned forgery: %q, want fail", got)
	}
	signed := withBogusSignature("attacker.example", forgedVictimMail)
	if got := c.Check(ctx, forgerHost, "evil", "victim@victim.example", "victim@victim.example", signed); got != channels.SenderFail {
		t.Errorf("an unaligned signature whose key lookup fails temporarily made the SPF fail %q", got)
	}
}

// TestSenderCheckSPFFailWinsOverAlignedTempFailures: even a temporary failure that matters
// (the From domain's DMARC record, an aligned signature's key) does not outrank a permanent
// SPF fail: a forger must not be able to wait for, or cause, a DNS hiccup.
func TestSenderCheckSPFFailWinsOverAlignedTempFailures(t *testing.T) {
	dns := &fakeDNS{
		txt:       map[string][]string{"victim.example": {"v=spf1 ip4:192.0.2.0/24 -all"}},
		tempNames: map[string]bool{"_dmarc.victim.example": true, "s1._domainkey.victim.example": true},
	}
	c := &SenderChecker{Resolver: dns}
	signed := withBogusSignature("victim.example", forgedVictimMail)
	if got := c.Check(context.Background(), forgerHost, "evil", "victim@victim.example", "victim@victim.example", signed); got != channels.SenderFail {
		t.Errorf("SPF fail with the DMARC record and an aligned DKIM key unreachable: %q, want fail", got)
	}
}

// TestSenderCheckCountsOnlyTempFailuresThatMatterForFrom: a temporary failure makes the
// verdict dns_unavailable only for a lookup that could have made the From pass.
func TestSenderCheckCountsOnlyTempFailuresThatMatterForFrom(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		tempNames []string
		envelope  string
		mail      []byte
		want      channels.SenderCheck
	}{
		{"the From domain's DMARC record", []string{"_dmarc.victim.example"}, "victim@victim.example",
			[]byte(forgedVictimMail), channels.SenderDNSUnavailable},
		{"SPF of an aligned envelope", []string{"victim.example"}, "bounces@victim.example",
			[]byte(forgedVictimMail), channels.SenderDNSUnavailable},
		{"the key of an aligned signature", []string{"s1._domainkey.victim.example"}, "victim@victim.example",
			withBogusSignature("victim.example", forgedVictimMail), channels.SenderDNSUnavailable},
		{"SPF of the forger's own envelope domain", []string{"attacker.example"}, "x@attacker.example",
			[]byte(forgedVictimMail), channels.SenderNone},
		{"the key of the forger's own signature", []string{"s1._domainkey.attacker.example"}, "victim@victim.example",
			withBogusSignature("attacker.example", forgedVictimMail), channels.SenderNone},
	} {
		dns := &fakeDNS{txt: map[string][]string{}, tempNames: map[string]bool{}}
		for _, n := range tc.tempNames {
			dns.tempNames[n] = true
		}
		c := &SenderChecker{Resolver: dns}
		if got := c.Check(ctx, forgerHost, "evil", tc.envelope, "victim@victim.example", tc.mail); got != tc.want {
			t.Errorf("%s unreachable: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestSenderCheckDMARCPolicyDecidesHardFail: without a pass, an enforced DMARC policy
// (quarantine, reject) is a hard fail; p=none (monitoring), no record, a softfail or a client
// we could not check SPF for (IMAP) is "none": no evidence either way.
func TestSenderCheckDMARCPolicyDecidesHardFail(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		txt  map[string][]string
		from string
		ip   net.IP
		want channels.SenderCheck
	}{
		{"p=reject", map[string][]string{"_dmarc.victim.example": {"v=DMARC1; p=reject"}},
			"victim@victim.example", forgerHost, channels.SenderFail},
		{"p=quarantine", map[string][]string{"_dmarc.victim.example": {"v=DMARC1; p=quarantine"}},
			"victim@victim.example", forgerHost, channels.SenderFail},
		{"p=none", map[string][]string{"_dmarc.victim.example": {"v=DMARC1; p=none"}},
			"victim@victim.example", forgerHost, channels.SenderNone},
		{"no DMARC record, SPF softfail", map[string][]string{"victim.example": {"v=spf1 ip4:192.0.2.0/24 ~all"}},
			"victim@victim.example", forgerHost, channels.SenderNone},
		{"subdomain under the organization's sp=none", map[string][]string{"_dmarc.victim.example": {"v=DMARC1; p=reject; sp=none"}},
			"a@uff.victim.example", forgerHost, channels.SenderNone},
		{"subdomain under the organization's p=reject", map[string][]string{"_dmarc.victim.example": {"v=DMARC1; p=reject"}},
			"a@uff.victim.example", forgerHost, channels.SenderFail},
		{"p=reject read over IMAP (SPF unknown)", map[string][]string{"_dmarc.victim.example": {"v=DMARC1; p=reject"}},
			"victim@victim.example", nil, channels.SenderNone},
	} {
		c := &SenderChecker{Resolver: &fakeDNS{txt: tc.txt}}
		if got := c.Check(ctx, tc.ip, "evil", tc.from, tc.from, []byte(forgedVictimMail)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
