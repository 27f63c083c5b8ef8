package config

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CTI configures the PBXs that report calls on /webhooks/cti.
type CTI struct {
	// Token is the shorthand for a single PBX: one unnamed source, allowed from anywhere.
	Token string `yaml:"token"`
	// Sources are the PBXs allowed to post call events, each with its own token, so that one
	// can be revoked alone and the logs tell which PBX sent what.
	Sources []CTISource `yaml:"sources"`
	// DialURL is the PBX's click-to-dial URL; {number}, {user} and {contact} are replaced.
	DialURL string `yaml:"dial_url"`
}

// CTISource is one PBX allowed to post call events.
type CTISource struct {
	// Name identifies the PBX in the logs and on the calls it reports; "" only for cti.token.
	Name  string `yaml:"name"`
	Token string `yaml:"token"`
	// Networks are the addresses (CIDR, or single IPs) the PBX may post from; empty means
	// anywhere. The client address is the one the HTTP server sees (http.trust_proxy decides
	// whether a proxy's X-Forwarded-For is believed).
	Networks []string `yaml:"networks"`

	// Prefixes are Networks parsed; filled by Validate.
	Prefixes []netip.Prefix `yaml:"-"`
}

// MinCTITokenLength is the shortest token a PBX may use: the bearer token is its only
// credential, and 16 random characters are out of reach of guessing over HTTP.
const MinCTITokenLength = 16

// AllSources is every source a PBX may post as: cti.sources, and cti.token (when set) as one
// more, unnamed and allowed from anywhere.
func (c CTI) AllSources() []CTISource {
	all := make([]CTISource, 0, len(c.Sources)+1)
	if c.Token != "" {
		all = append(all, CTISource{Token: c.Token})
	}
	return append(all, c.Sources...)
}

func (c *Config) validateCTI(bad func(string, string, ...any)) {
	tokens := map[string]string{} // token -> the key that holds it
	// checkToken: strict holds a cti.sources token to the minimum length; cti.token, the
	// contract's shorthand, is taken at any length (Warnings says when it is short), and so
	// is the mask `config print` writes, which the webhook never accepts (see Masked).
	checkToken := func(key, token string, strict bool) {
		if token == Masked {
			return
		}
		switch {
		case strict && utf8.RuneCountInString(token) < MinCTITokenLength:
			bad(key, "must be at least %d characters (it has %d): it is the PBX's only credential", MinCTITokenLength, utf8.RuneCountInString(token))
		case strings.IndexFunc(token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
			bad(key, "must not hold spaces or control characters: it travels in an Authorization header")
		}
		if other, dup := tokens[token]; dup {
			bad(key, "is the same token as %s: each PBX needs its own, to be revoked alone", other)
			return
		}
		tokens[token] = key
	}
	if d := c.CTI.DialURL; d != "" && !strings.HasPrefix(d, "http://") && !strings.HasPrefix(d, "https://") {
		bad("cti.dial_url", "must be an http(s) URL")
	}
	if c.CTI.Token != "" {
		checkToken("cti.token", c.CTI.Token, false)
	}
	names := map[string]string{}
	for i := range c.CTI.Sources {
		s := &c.CTI.Sources[i]
		key := fmt.Sprintf("cti.sources[%d]", i)
		switch {
		case s.Name == "":
			bad(key+".name", "is required: it names the PBX in the logs and on its calls")
		case !slugLike.MatchString(s.Name):
			bad(key+".name", "must be a lower-case slug (letters, digits, - and _), got %q", s.Name)
		default:
			if other, dup := names[s.Name]; dup {
				bad(key+".name", "duplicate source name %q (also %s)", s.Name, other)
			}
			names[s.Name] = key + ".name"
		}
		if s.Token == "" {
			bad(key+".token", "is required")
		} else {
			checkToken(key+".token", s.Token, true)
		}
		s.Prefixes = s.Prefixes[:0]
		for j, n := range s.Networks {
			p, err := parseNetwork(n)
			if err != nil {
				bad(fmt.Sprintf("%s.networks[%d]", key, j), "%v", err)
				continue
			}
			s.Prefixes = append(s.Prefixes, p)
		}
	}
}

// Warnings are what the CTI settings allow but an operator should hear about at start-up: a
// short cti.token, and a token that is still the mask of `config print` (no PBX can use it).
func (c CTI) Warnings() []string {
	const masked = " is the mask `config print` shows: that PBX cannot post until the real token is written back"
	var w []string
	if n := utf8.RuneCountInString(c.Token); c.Token != "" && c.Token != Masked && n < MinCTITokenLength {
		w = append(w, fmt.Sprintf("cti.token has %d characters: use at least %d random ones, it is the PBX's only credential", n, MinCTITokenLength))
	}
	if c.Token == Masked {
		w = append(w, "cti.token"+masked)
	}
	for i, s := range c.Sources {
		if s.Token == Masked {
			w = append(w, fmt.Sprintf("cti.sources[%d].token", i)+masked)
		}
	}
	return w
}
