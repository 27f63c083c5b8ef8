package fax

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/clientaddr"
	"github.com/sportello/sportello/config"
)

// Detector recognizes mail sent by fax-to-email gateways and turns it into fax contacts.
type Detector struct {
	gateways []gateway
}

type gateway struct {
	// sender is a lower-case exact address, or "@domain" for any address of that domain.
	sender  string
	pattern *regexp.Regexp
	// networks the gateway's mail comes from over SMTP, when its domain cannot prove it.
	networks []netip.Prefix
}

// NewDetector builds a Detector from the configured gateways. A gateway whose pattern was not
// compiled by config validation has its subject_pattern compiled here.
func NewDetector(gateways []config.FaxGateway) (*Detector, error) {
	d := &Detector{}
	for i, g := range gateways {
		sender := strings.ToLower(strings.TrimSpace(g.Sender))
		if sender == "" || sender == "@" {
			return nil, fmt.Errorf("fax: gateway %d: sender is required", i)
		}
		re := g.Pattern
		if re == nil {
			if g.SubjectPattern == "" {
				return nil, fmt.Errorf("fax: gateway %d (%s): subject_pattern is required", i, sender)
			}
			var err error
			if re, err = regexp.Compile(g.SubjectPattern); err != nil {
				return nil, fmt.Errorf("fax: gateway %d (%s): subject_pattern: %w", i, sender, err)
			}
		}
		if re.NumSubexp() < 1 {
			return nil, fmt.Errorf("fax: gateway %d (%s): subject_pattern needs a group for the fax number", i, sender)
		}
		networks := g.Prefixes
		if len(networks) == 0 && len(g.Networks) > 0 {
			for _, n := range g.Networks {
				p, err := netip.ParsePrefix(n)
				if err != nil {
					return nil, fmt.Errorf("fax: gateway %d (%s): networks: %w", i, sender, err)
				}
				networks = append(networks, p.Masked())
			}
		}
		d.gateways = append(d.gateways, gateway{sender: sender, pattern: re, networks: networks})
	}
	return d, nil
}

func (d *Detector) match(from string) (gateway, bool) {
	from = strings.ToLower(strings.TrimSpace(from))
	for _, g := range d.gateways {
		if strings.HasPrefix(g.sender, "@") {
			if strings.HasSuffix(from, g.sender) && len(from) > len(g.sender) {
				return g, true
			}
		} else if from == g.sender {
			return g, true
		}
	}
	return gateway{}, false
}

// IsGateway reports whether mail from this address comes from a configured fax gateway.
func (d *Detector) IsGateway(from string) bool {
	_, ok := d.match(from)
	return ok
}

// Apply turns an email from a fax gateway into a fax: Channel becomes channels.Fax, From the
// sender's fax number in E.164 (read from the subject with the gateway's pattern), and TIFF or
// PDF attachments get their page count. When the subject holds no usable number the email
// address stays as From and a note says so. It reports whether the message was a fax.
//
// A gateway's address in From is not enough: mail that names a gateway without coming from it
// (see fromGateway) stays an email, with a note saying why; other mail is left untouched.
func (d *Detector) Apply(in *channels.InboundMessage) bool {
	if d == nil || in == nil {
		return false
	}
	g, ok := d.match(in.From)
	if !ok {
		return false
	}
	if !fromGateway(in, g) {
		in.Notes = append(in.Notes, fmt.Sprintf("il mittente %s è l'indirizzo di un gateway fax ma non è verificato (SPF/DKIM: %s): resta un'email", in.From, senderCheckName(in.SenderCheck)))
		return false
	}
	in.Channel = channels.Fax
	if number, err := numberFromSubject(g.pattern, in.Subject); err == nil {
		in.From = number
	} else {
		in.Notes = append(in.Notes, fmt.Sprintf("fax dal gateway %s: %v; il mittente resta l'indirizzo email", in.From, err))
	}
	countAttachmentPages(in, newPageCounter(messageInflateBudget, messageCountingTime))
	return true
}

// fromGateway says whether mail whose header From names a gateway really comes from it: the
// fax number it carries becomes a citizen's identity, and replies are faxed there. Mail that
// Sportello's own SMTP server took must have passed SPF or DKIM for a domain aligned with that
// From (DMARC's rule: the verdict the server's sender check wrote in SenderCheck), since
// anyone can write a gateway's address in From; or it came from one of the gateway's
// configured networks (a fax server whose domain publishes neither SPF nor DKIM). Mail read
// from a mailbox was received, and filtered, by the mailbox's provider, and is taken at its word.
func fromGateway(in *channels.InboundMessage, g gateway) bool {
	if !in.ReceivedOverSMTP || in.SenderCheck == channels.SenderPass {
		return true
	}
	return clientaddr.Within(in.ClientIP, g.networks)
}

func senderCheckName(c channels.SenderCheck) string {
	if c == channels.SenderUnchecked {
		return "non eseguito"
	}
	return string(c)
}

// countAttachmentPages sets the page count of the message's TIFF and PDF attachments within
// the budget of counter, one for the whole message: counting runs before the sender is
// answered. A count the budget does not allow stays unknown (nil, with a note); the message
// is never lost for it.
func countAttachmentPages(in *channels.InboundMessage, counter *pageCounter) {
	for i := range in.Attachments {
		a := &in.Attachments[i]
		if kind := Sniff(a.Data); kind != KindTIFF && kind != KindPDF {
			continue
		}
		if counter.outOfTime() {
			in.Notes = append(in.Notes, fmt.Sprintf("pagine dei fax non contate da %q in poi: %v", a.Filename, counter.checkTime()))
			return
		}
		n, err := counter.count(a.Data)
		if err != nil {
			in.Notes = append(in.Notes, fmt.Sprintf("pagine del fax %q non contate: %v", a.Filename, err))
			continue
		}
		a.Pages = &n
	}
}

func numberFromSubject(re *regexp.Regexp, subject string) (string, error) {
	m := re.FindStringSubmatch(subject)
	if len(m) < 2 || strings.TrimSpace(m[1]) == "" {
		return "", fmt.Errorf("nessun numero di fax nell'oggetto %q", subject)
	}
	raw := strings.TrimSpace(m[1])
	if n, err := channels.NormalizePhone(raw); err == nil {
		return n, nil
	}
	// Gateways write numbers as 055/1234567 or 055.123.4567: keep only what dials.
	var b strings.Builder
	for i, r := range raw {
		if (r >= '0' && r <= '9') || (r == '+' && i == 0) {
			b.WriteRune(r)
		}
	}
	n, err := channels.NormalizePhone(b.String())
	if err != nil {
		return "", fmt.Errorf("numero di fax %q non valido", raw)
	}
	return n, nil
}

// OutboundAddress is the email-to-fax address that delivers to a fax number through a gateway:
// "+390551234567" and "fax.example" make "390551234567@fax.example". It returns "" when the
// number has no digits or the domain is empty.
func OutboundAddress(e164, domain string) string {
	var b strings.Builder
	for _, r := range e164 {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	domain = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(domain), "@"))
	if b.Len() == 0 || domain == "" {
		return ""
	}
	return b.String() + "@" + domain
}
