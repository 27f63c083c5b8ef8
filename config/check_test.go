package config

import (
	"strings"
	"testing"
)

// TestErrorsSpeakTheFilesLanguage: mistakes are reported with the dotted key, what was expected,
// what was found and the line, never with Go type names.
func TestErrorsSpeakTheFilesLanguage(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"comuni: [{id: a, name: A}]\nhttp:\n  listen: [a, b]\n", `http.listen: expected text, got a list (line 3)`},
		{"comuni: [{id: a, name: A}]\nhtpp: {listen: 127.0.0.1:1}\n", `config: unknown key "htpp" (line 2); did you mean "http"?`},
		{"comuni: [{id: a, name: A}]\nhttp: {max_body_bytes: lots}\n", `http.max_body_bytes: expected a whole number, got the text "lots" (line 2)`},
		{"comuni: [{id: a, name: A}]\nsmtp: {read_timeout: soon}\n", `smtp.read_timeout: expected a duration like 30s or 5ms, got "soon" (line 2)`},
		{"comuni: [{id: a, name: A}]\nauth: {token_ttl: 0}\n", `auth.token_ttl: expected a duration with a unit like 0s, 30s or 5m, got 0 (line 2)`},
		{"comuni:\n  - id: a\n    name: A\n    phone_number: [\"+390552768000\"]\n", `comuni[0]: unknown key "phone_number" (line 4); did you mean "phone_numbers"?`},
		{"comuni: [{id: a, name: A}]\nhttp: {trust_proxy: sometimes}\n", `http.trust_proxy: expected true or false, got the text "sometimes" (line 2)`},
		{"comuni: {id: a}\n", `comuni: expected a list, got keys and values (line 1)`},
		{"comuni: [{id: a, name: A}]\nqueues: [{id: q, priority: 1.5}]\n", `queues[0].priority: expected a whole number, got the number 1.5 (line 2)`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.yaml))
		if err == nil {
			t.Errorf("%q: no error", c.yaml)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) {
			t.Errorf("%q:\n got %s\nwant %s", c.yaml, msg, c.want)
		}
		for _, leak := range []string{"!!", "config.", "unmarshal", "int64", "type "} {
			if strings.Contains(msg, leak) {
				t.Errorf("%q: error %q leaks %q", c.yaml, msg, leak)
			}
		}
	}
}

func TestListenOverrides(t *testing.T) {
	env := map[string]string{"SPORTELLO_HTTP_LISTEN": "127.0.0.1:18080", "SPORTELLO_SMTP_LISTEN": "127.0.0.1:12525"}
	c, err := LoadWith("", Overrides{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Listen != "127.0.0.1:18080" || c.SMTP.Listen != "127.0.0.1:12525" || c.PublicURL != "http://127.0.0.1:18080" {
		t.Fatalf("environment not applied: http %s smtp %s public_url %s", c.HTTP.Listen, c.SMTP.Listen, c.PublicURL)
	}
	c, err = LoadWith("", Overrides{Getenv: func(k string) string { return env[k] }, HTTPListen: "127.0.0.1:19090", SMTPListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Listen != "127.0.0.1:19090" || c.SMTP.Listen != "127.0.0.1:0" || c.PublicURL != "http://127.0.0.1:19090" {
		t.Fatalf("flags must win over the environment: http %s smtp %s public_url %s", c.HTTP.Listen, c.SMTP.Listen, c.PublicURL)
	}
}

func TestPrintMasksSecretsAndReadsBack(t *testing.T) {
	c, err := Parse([]byte(`
database_url: postgres://sportello:dbpass@127.0.0.1/sportello
comuni: [{id: a, name: A}]
twilio: {account_sid: AC1, auth_token: tok123, from: "+390550550"}
cti: {token: ctisecret-legacy-0123, sources: [{name: pbx-nord, token: ctisecret-nord-0123, networks: [10.1.2.0/24]}]}
email: {relay: 127.0.0.1:25, relay_password: relaypw}
imap: [{comune: a, address: "x:993", username: u, password: imappw}]
`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Print(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"dbpass", "tok123", "ctisecret", "relaypw", "imappw"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("config print shows the secret %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(string(out), "name: pbx-nord") || !strings.Contains(string(out), "10.1.2.0/24") {
		t.Errorf("config print lost the CTI source:\n%s", out)
	}
	back, err := Parse(out)
	if err != nil {
		t.Fatalf("the printed config does not read back: %v\n%s", err, out)
	}
	// The masked CTI tokens read back, and are warned of: the gateway never accepts the mask.
	if len(back.CTI.Sources) != 1 || back.CTI.Sources[0].Name != "pbx-nord" || len(back.CTI.Sources[0].Prefixes) != 1 || len(back.CTI.Warnings()) != 2 {
		t.Errorf("printed CTI sources read back as %+v, warnings %q", back.CTI.Sources, back.CTI.Warnings())
	}
	// So do the other secrets, each named once: a verifier given the mask would take it from
	// anyone who saw the printout.
	warned := strings.Join(back.Warnings(), "\n")
	for _, key := range []string{"twilio.auth_token is", "email.relay_password is", "imap[0].password is", "cti.token is", "cti.sources[0].token is"} {
		if strings.Count(warned, key) != 1 {
			t.Errorf("warnings name %q %d times, want once:\n%s", key, strings.Count(warned, key), warned)
		}
	}
	if back.Twilio.AuthToken != Masked || back.Twilio.AccountSID != "AC1" || len(back.Categories) != 7 || back.IMAP[0].PollInterval != c.IMAP[0].PollInterval {
		t.Fatalf("printed config lost values: %+v", back.Twilio)
	}
	demo, _ := Load("")
	out, err = Print(demo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(out); err != nil {
		t.Fatalf("the printed demo config does not read back: %v", err)
	}
}

func TestMetricsTokenAndTwilioTokenChecks(t *testing.T) {
	c, err := Parse([]byte("comuni: [{id: a, name: A}]\nmetrics: {token: short}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(c.Warnings(), "\n"); !strings.Contains(w, "metrics.token has 5 characters") {
		t.Errorf("a short metrics.token is not warned of: %q", w)
	}
	c, err = Parse([]byte("comuni: [{id: a, name: A}]\nmetrics: {token: \"" + Masked + "\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(c.Warnings(), "\n"); !strings.Contains(w, "metrics.token is the mask") || strings.Contains(w, "characters") {
		t.Errorf("a masked metrics.token: warnings %q", w)
	}
	if Usable(c.Metrics.Token) != "" || Usable("0123456789abcdef") != "0123456789abcdef" {
		t.Error("Usable must turn the mask, and only the mask, into no secret")
	}
	c, err = Parse([]byte("comuni: [{id: a, name: A}]\nmetrics: {token: 0123456789abcdef0123}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("a good configuration has warnings: %q", w)
	}
	_, err = Parse([]byte("comuni: [{id: a, name: A}]\ntwilio: {account_sid: AC1, auth_token: not-a-token, from: \"+390550550\"}\n"))
	if err == nil || !strings.Contains(err.Error(), "twilio.auth_token") {
		t.Errorf("a token twilio-go refuses is taken: %v", err)
	}
}
