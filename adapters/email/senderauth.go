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
// (emersion/go-msgauth), the libraries chasquid and maddy use. Only the verdict is used, to
// decide whether a closed-hours answer may go to that From; mail is accepted either way.
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
func (c *SenderChecker) Check(ctx context.Context, ip net.IP, helo, envelopeFrom, headerFrom string, raw []byte) channels.SenderCheck {
	fromDomain := senderDomain(headerFrom)
	if fromDomain == "" {
		return channels.SenderFail
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

	temporary := false
	var spfMode, dkimMode dmarc.AlignmentMode = dmarc.AlignmentRelaxed, dmarc.AlignmentRelaxed
	record, err := dmarc.LookupWithOptions(fromDomain, &dmarc.LookupOptions{LookupTXT: lookupTXT})
	if errors.Is(err, dmarc.ErrNoPolicy) {
		// RFC 7489 §6.6.3: without a record of its own, a subdomain follows its
		// organizational domain's.
		if org, orgErr := publicsuffix.EffectiveTLDPlusOne(fromDomain); orgErr == nil && org != fromDomain {
			record, err = dmarc.LookupWithOptions(org, &dmarc.LookupOptions{LookupTXT: lookupTXT})
		}
	}
	switch {
	case err == nil:
		spfMode, dkimMode = record.SPFAlignment, record.DKIMAlignment
	case dmarc.IsTempFail(err):
		temporary = true
	}

	if ip != nil && envelopeFrom != "" {
		res, _ := spf.CheckHostWithSender(ip, helo, envelopeFrom, spf.WithResolver(resolver), spf.WithContext(ctx))
		switch res {
		case spf.Pass:
			if aligned(senderDomain(envelopeFrom), fromDomain, spfMode) {
				return channels.SenderPass
			}
		case spf.TempError:
			temporary = true
		}
	}

	verifications, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookupTXT, MaxVerifications: maxDKIMSignatures})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		return verdictWithout(temporary)
	}
	for _, v := range verifications {
		switch {
		case v.Err == nil && aligned(v.Domain, fromDomain, dkimMode):
			return channels.SenderPass
		case v.Err != nil && dkim.IsTempFail(v.Err):
			temporary = true
		}
	}
	return verdictWithout(temporary)
}

func verdictWithout(temporary bool) channels.SenderCheck {
	if temporary {
		return channels.SenderDNSUnavailable
	}
	return channels.SenderFail
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
