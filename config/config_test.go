package config

import (
	"strings"
	"testing"
)

func TestDemoConfigIsValid(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Comuni) != 4 || !c.Demo || c.Twilio.Enabled() {
		t.Fatalf("demo config: %d comuni, demo=%v, twilio=%v", len(c.Comuni), c.Demo, c.Twilio.Enabled())
	}
	if len(c.Categories) != 7 {
		t.Fatalf("want 7 default categories, got %d", len(c.Categories))
	}
}

func TestBrokenConfigNamesTheKey(t *testing.T) {
	cases := map[string]string{
		"timezone: Mars/Olympus\ncomuni: [{id: a, name: A}]":                                         "timezone",
		"comuni: [{id: a, name: A, phone_numbers: [\"abc\"]}]":                                       "comuni[0].phone_numbers[0]",
		"comuni: [{id: a, name: A}]\nbusiness_hours: {open: \"25:00\"}":                              "business_hours.open",
		"comuni: [{id: a, name: A}]\nimap: [{comune: b, address: x:1, username: u}]":                 "imap[0].comune",
		"comuni: [{id: a, name: A}]\nfax: {gateways: [{sender: x, subject_pattern: \"(\"}]}":         "fax.gateways[0].subject_pattern",
		"comuni: [{id: a, name: A}]\nfax: {gateways: [{sender: x, networks: [10.0.0.0/33]}]}":        "fax.gateways[0].networks[0]",
		"comuni: [{id: a, name: A}]\ntwilio: {skip_signature: true, account_sid: AC1}":               "twilio.skip_signature",
		"comuni: [{id: a, name: A}]\npublic_url: https://gw.example\ntwilio: {skip_signature: true}": "twilio.skip_signature",
		"comuni: [{id: a, name: A}]\nunknown_key: 1":                                                 "unknown_key",
		"comuni: [{id: a, name: A}]\ndatabase_url: mysql://x":                                        "database_url",
		"comuni: []": "comuni",
		"comuni: [{id: a, name: A, email_addresses: [\"URP <urp@a.it>\"]}]":                             "comuni[0].email_addresses[0]",
		"comuni: [{id: a, name: A, pec_address: \"<pec@a.it>\"}]":                                       "comuni[0].pec_address",
		"comuni: [{id: a, name: A, offices: [{id: pm, email: \"Polizia Municipale <pm@a.it>\"}]}]":      "comuni[0].offices[0].email",
		"comuni: [{id: a, name: A, offices: [{id: pm, phone: \"chiamare il centralino\"}]}]":            "comuni[0].offices[0].phone",
		"comuni: [{id: a, name: A, offices: [{id: pm, email: pm@a.it}, {id: pm, email: vigili@a.it}]}]": "comuni[0].offices[1].id",
	}
	for yml, key := range cases {
		_, err := Parse([]byte(yml))
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: error %v does not name %q", yml, err, key)
		}
	}
}

func TestSkipSignatureOnlyOnALoopbackExperiment(t *testing.T) {
	if _, err := Parse([]byte("comuni: [{id: a, name: A}]\npublic_url: http://127.0.0.1:8080\ntwilio: {skip_signature: true}")); err != nil {
		t.Fatal(err)
	}
}

func TestFaxGatewayNetworksAreParsed(t *testing.T) {
	c, err := Parse([]byte("comuni: [{id: a, name: A}]\nfax: {gateways: [{sender: x, networks: [10.1.2.9/24, 192.0.2.7, \"::ffff:198.51.100.1\"]}]}"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.Fax.Gateways[0].Prefixes {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "10.1.2.0/24 192.0.2.7/32 198.51.100.1/32" {
		t.Fatalf("networks %q", got)
	}
}

func TestEnvironmentOverridesSecrets(t *testing.T) {
	t.Setenv("TWILIO_AUTH_TOKEN", "fromenv")
	t.Setenv("SPORTELLO_DATABASE_URL", "postgres://x@127.0.0.1/db")
	c, err := Parse([]byte("comuni: [{id: a, name: A}]\ntwilio: {auth_token: fromfile}"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Twilio.AuthToken != "fromenv" || c.DatabaseURL != "postgres://x@127.0.0.1/db" {
		t.Fatalf("env not applied: %+v", c.Twilio)
	}
}
