package email

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"

	"github.com/sportello/sportello/channels"
)

// Resolver is the DNS the sender checks ask: *net.Resolver in production, a fake in tests
// (they run offline).
type Resolver = spf.DNSResolver

// SenderChecker decides whether an email's header From is its real sender, with SPF
// (blitiri.com.ar/go/spf: RFC 7208 with its lookup limits) and DKIM and DMARC
// (emersion/go-msgauth), the libraries chasquid and maddy use. Only the verdict is used: a
// closed-hours answer goes only to a From that passed, and a hard fail keeps a mail from
// joining a thread as an office we wrote to (store.Ingest); mail is accepted either way.
type SenderChecker struct {
	// Resolver answers the lookups (net.DefaultResolver when nil).
	Resolver Resolver
	// Timeout bounds all the lookups of one message (default 5 s): the client waits for its
	// 250 meanwhile.
	Timeout time.Duration
}

// maxDKIMSignatures bounds the signatures verified per message (each may cost a lookup).
const maxDKIMSignatures = 5

// Check returns the verdict on headerFrom for a message that came from ip (nil when unknown,
// as for a mailbox read over IMAP: then only DKIM can pass) with the given HELO name and
// envelope sender. A pass follows DMARC's rule: SPF passed for the envelope domain or a DKIM
// signature verified for its d= domain, and that domain is aligned with the From domain
// (relaxed, by organizational domain, unless the domain's DMARC record asks for strict).
// Short of a pass, see fallbackVerdict.
func (c *SenderChecker) Check(ctx context.Context, ip net.IP, helo, envelopeFrom, headerFrom string, raw []byte) channels.SenderCheck {
	fromDomain := senderDomain(headerFrom)
	if fromDomain == "" {
		return channels.SenderNone // nobody to check, nor to answer
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resolver := c.Resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	lookupTXT := func(name string) ([]string, error) { return resolver.LookupTXT(ctx, name) }

	policy := lookupFromPolicy(fromDomain, lookupTXT)
	found := evidence{temporary: policy.temporary, spfChecked: ip != nil && envelopeFrom != ""}
	if found.spfChecked {
		res, _ := spf.CheckHostWithSender(ip, helo, envelopeFrom, spf.WithResolver(resolver), spf.WithContext(ctx))
		envelopeAligned := aligned(senderDomain(envelopeFrom), fromDomain, policy.spfMode)
		switch {
		case res == spf.Pass && envelopeAligned:
			return channels.SenderPass
		case res == spf.Fail:
			found.spfFailed = true
		case res == spf.TempError && envelopeAligned:
			// An unaligned envelope could never make the From pass: its DNS, which its
			// owner (perhaps the forger) controls, must not decide anything.
			found.temporary = true
		}
	}
	dkimPass, dkimTemporary := verifyAlignedDKIM(raw, lookupTXT, fromDomain, policy.dkimMode)
	if dkimPass {
		return channels.SenderPass
	}
	found.temporary = found.temporary || dkimTemporary
	return fallbackVerdict(found, policy)
}

// evidence is what the checks found of a message that did not pass.
type evidence struct {
	// spfChecked: the client's address and envelope sender were known, so SPF was evaluated.
	spfChecked bool
	// spfFailed: the envelope domain's SPF record excludes the client (a "fail", not a
	// softfail or neutral).
	spfFailed bool
	// temporary: a lookup that could have made the From pass failed temporarily.
	temporary bool
}

// fallbackVerdict ranks what remains without a pass. A hard fail wins over any temporary
// failure, so that no DNS failure a forger can cause launders a permanent one: SPF failed,
// or the From domain's DMARC policy is enforced and nothing satisfied it. DMARC fails only
// when it was fully judged: SPF checked (over IMAP the client is unknown, so a missing SPF
// pass proves nothing) and no lookup that counts failed temporarily. Then a temporary
// failure (SenderDNSUnavailable), else SenderNone.
func fallbackVerdict(found evidence, policy fromPolicy) channels.SenderCheck {
	switch {
	case found.spfFailed:
		return channels.SenderFail
	case found.temporary:
		return channels.SenderDNSUnavailable
	case policy.enforced && found.spfChecked:
		return channels.SenderFail
	}
	return channels.SenderNone
}

// fromPolicy is what the From domain's DMARC record asks.
type fromPolicy struct {
	spfMode, dkimMode dmarc.AlignmentMode
	// enforced: the record asks receivers to quarantine or reject mail that fails, so its
	// owner says such mail is not theirs (p=none only asks for reports: monitoring).
	enforced bool
	// temporary: the record could not be read (a temporary DNS failure).
	temporary bool
}

// lookupFromPolicy reads the DMARC record of fromDomain, or of its organizational domain
// when it has none (RFC 7489 §6.6.3; then the record's sp= applies, when it has one).
// Without a record, alignment is relaxed and nothing is enforced.
func lookupFromPolicy(fromDomain string, lookupTXT func(string) ([]string, error)) fromPolicy {
	p := fromPolicy{spfMode: dmarc.AlignmentRelaxed, dkimMode: dmarc.AlignmentRelaxed}
	opts := &dmarc.LookupOptions{LookupTXT: lookupTXT}
	record, err := dmarc.LookupWithOptions(fromDomain, opts)
	inherited := false
	if errors.Is(err, dmarc.ErrNoPolicy) {
		if org, orgErr := publicsuffix.EffectiveTLDPlusOne(fromDomain); orgErr == nil && org != fromDomain {
			record, err = dmarc.LookupWithOptions(org, opts)
			inherited = true
		}
	}
	switch {
	case err == nil:
		p.spfMode, p.dkimMode = record.SPFAlignment, record.DKIMAlignment
		policy := record.Policy
		if inherited && record.SubdomainPolicy != "" {
			policy = record.SubdomainPolicy
		}
		p.enforced = policy == dmarc.PolicyQuarantine || policy == dmarc.PolicyReject
	case dmarc.IsTempFail(err):
		p.temporary = true
	}
	return p
}

// verifyAlignedDKIM verifies a message's DKIM signatures (at most maxDKIMSignatures):
// pass when one verified for a d= domain aligned with the From domain; otherwise temporary
// when an aligned signature's key lookup failed temporarily. Signatures of other domains
// count for nothing either way: anyone can sign with a domain of his own and make its DNS
// fail. A broken or failing signature is no evidence of forgery (RFC 6376 §6.1: mailing
// lists and forwarders break them): treated as absent.
func verifyAlignedDKIM(raw []byte, lookupTXT func(string) ([]string, error), fromDomain string, mode dmarc.AlignmentMode) (pass, temporary bool) {
	verifications, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookupTXT, MaxVerifications: maxDKIMSignatures})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		return false, false
	}
	for _, v := range verifications {
		if !aligned(v.Domain, fromDomain, mode) {
			continue
		}
		if v.Err == nil {
			return true, false
		}
		if dkim.IsTempFail(v.Err) {
			temporary = true
		}
	}
	return false, temporary
}

// aligned compares an authenticated domain with the From domain as DMARC does (RFC 7489
// §3.1): strict wants the same name, relaxed the same organizational domain.
func aligned(authenticated, from string, mode dmarc.AlignmentMode) bool {
	authenticated, from = strings.ToLower(strings.TrimSuffix(authenticated, ".")), strings.ToLower(strings.TrimSuffix(from, "."))
	if authenticated == "" || from == "" {
		return false
	}
	if authenticated == from {
		return true
	}
	if mode == dmarc.AlignmentStrict {
		return false
	}
	a, errA := publicsuffix.EffectiveTLDPlusOne(authenticated)
	f, errF := publicsuffix.EffectiveTLDPlusOne(from)
	return errA == nil && errF == nil && a == f
}

// senderDomain is the lower-cased domain of an address, "" without one.
func senderDomain(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(strings.Trim(addr[i+1:], "<> ")))
}

// returnPath is the address of a message's first Return-Path field (the one the final
// delivery added), lower-cased; "" when absent or empty (<>).
func returnPath(raw []byte) string {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		end = bytes.Index(raw, []byte("\n\n"))
	}
	if end < 0 {
		end = len(raw)
	}
	for _, line := range strings.Split(string(raw[:end]), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "Return-Path") {
			continue
		}
		addr := strings.Trim(strings.TrimSpace(value), "<>")
		if a, err := channels.NormalizeEmail(addr); err == nil {
			return a
		}
		return ""
	}
	return ""
}
