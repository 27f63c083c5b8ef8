package config

import (
	"strings"
	"testing"
)

const ctiBase = "comuni: [{id: a, name: A}]\n"

// Each PBX is a named source with its own token and, optionally, the networks it posts from;
// cti.token stays the shorthand for one unnamed source allowed from anywhere.
func TestCTISourcesAreParsed(t *testing.T) {
	c, err := Parse([]byte(ctiBase + `cti:
  token: legacy-token-0123456789
  sources:
    - {name: pbx-nord, token: nord-token-0123456789, networks: [10.1.2.9/24, 192.0.2.7]}
    - {name: pbx-sud, token: sud-token-0123456789}
`))
	if err != nil {
		t.Fatal(err)
	}
	all := c.CTI.AllSources()
	if len(all) != 3 {
		t.Fatalf("sources %+v", all)
	}
	if all[0].Name != "" || all[0].Token != "legacy-token-0123456789" || len(all[0].Prefixes) != 0 {
		t.Errorf("cti.token as a source: %+v", all[0])
	}
	if all[1].Name != "pbx-nord" || len(all[1].Prefixes) != 2 || all[1].Prefixes[0].String() != "10.1.2.0/24" || all[1].Prefixes[1].String() != "192.0.2.7/32" {
		t.Errorf("pbx-nord: %+v", all[1])
	}
	if all[2].Name != "pbx-sud" || len(all[2].Prefixes) != 0 {
		t.Errorf("pbx-sud: %+v", all[2])
	}
	if c, err := Parse([]byte(ctiBase)); err != nil || len(c.CTI.AllSources()) != 0 {
		t.Fatalf("no CTI configured: %v %+v", err, c.CTI.AllSources())
	}
}

// A source that cannot be told apart from another, a token anyone could guess or that a
// header cannot carry, a network that is not one: each names its key and says why, without
// printing the token.
func TestCTISourceMistakesNameTheKey(t *testing.T) {
	for _, c := range []struct{ yaml, key, why string }{
		{"cti: {token: \"with space 0123456789\"}", "cti.token", "spaces"},
		{"cti: {sources: [{name: a, token: \"\"}]}", "cti.sources[0].token", "is required"},
		{"cti: {sources: [{name: a, token: short-token}]}", "cti.sources[0].token", "at least 16 characters"},
		{"cti: {sources: [{token: nameless-token-0123456789}]}", "cti.sources[0].name", "is required"},
		{"cti: {sources: [{name: PBX Nord, token: nord-token-0123456789}]}", "cti.sources[0].name", "lower-case slug"},
		{"cti: {sources: [{name: a, token: a-token-0123456789}, {name: a, token: b-token-0123456789}]}", "cti.sources[1].name", `duplicate source name "a" (also cti.sources[0].name)`},
		{"cti: {sources: [{name: a, token: same-token-0123456789}, {name: b, token: same-token-0123456789}]}", "cti.sources[1].token", "the same token as cti.sources[0].token"},
		{"cti: {token: same-token-0123456789, sources: [{name: b, token: same-token-0123456789}]}", "cti.sources[0].token", "the same token as cti.token"},
		{"cti: {sources: [{name: a, token: a-token-0123456789, networks: [10.0.0.0/33]}]}", "cti.sources[0].networks[0]", "not a network"},
		{"cti: {sources: [{name: a, token: a-token-0123456789, networks: [10.0.0.0/8, pbx.example]}]}", "cti.sources[0].networks[1]", "not an address"},
	} {
		_, err := Parse([]byte(ctiBase + c.yaml))
		if err == nil {
			t.Errorf("%s: accepted", c.yaml)
			continue
		}
		if want := "config: " + c.key + ": "; !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s:\n got %v\nwant %s… %s", c.yaml, err, want, c.why)
		}
		for _, secret := range []string{"same-token-0123456789", "short-token"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the error prints the token: %v", c.yaml, err)
			}
		}
	}
}

// cti.token is the contract's shorthand: a short one is taken (the demo of the contract uses
// one) and so is the mask `config print` writes, so a printed config reads back; both are
// warned of at start-up and by `config check`, and the gateway never accepts the mask.
func TestShortOrMaskedCTITokenIsWarnedOf(t *testing.T) {
	c, err := Parse([]byte(ctiBase + "cti: {token: secret, sources: [{name: nord, token: \"********\"}]}"))
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(c.CTI.Warnings(), "\n")
	if !strings.Contains(w, "cti.token has 6 characters") || !strings.Contains(w, "cti.sources[0].token is the mask") || strings.Contains(w, "secret") {
		t.Errorf("warnings: %q", w)
	}
	if c, err := Parse([]byte(ctiBase + "cti: {token: a-long-enough-token-0123}")); err != nil || len(c.CTI.Warnings()) != 0 {
		t.Errorf("a good token: %v %q", err, c.CTI.Warnings())
	}
}
