package integration

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/reports"
	"github.com/sportello/sportello/store"
)

// TestSimulateReproducesTheSeedMix runs `sportello simulate` (the real binary) against a
// running gateway and checks that the report gives back the mix it was given, within four
// standard errors of sampling.
func TestSimulateReproducesTheSeedMix(t *testing.T) {
	const n = 600
	relay := startEmailRelay(t)
	extra := "email:\n  from: \"Linea Comune <noreply@055055.example>\"\n  relay: " + relay.Addr + "\n"
	empoli := "    email_addresses: [\"urp@comune.empoli.fi.it\"]\n    topics: [traffico]\n"
	yaml := strings.Replace(emailYAML(extra), empoli, empoli+`    offices:
      - id: urp
        name: URP
        email: urp-back@comune.empoli.fi.it
        phone: "+39057175700"
`, 1)
	gw := harness.Start(t, harness.Options{Dialect: store.SQLite, Replace: yaml})
	sup := gw.User(t, "sup", store.RoleSupervisor)

	cfgPath := filepath.Join(t.TempDir(), "sportello.yaml")
	if err := os.WriteFile(cfgPath, []byte(harness.ConfigYAMLWithTwilio(harness.Options{Replace: yaml}, gw.DataDir, gw.DatabaseURL, "http://127.0.0.1:9")), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(harness.Binary(t), "simulate", "--config", cfgPath, "--contacts", "600", "--days", "7", "--seed", "2005",
		"--url", gw.URL, "--smtp", gw.G.SMTPAddr())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(string(out), "Simulated 600 contacts (profile linea-comune, seed 2005)") || !strings.Contains(stderr.String(), "resolving") {
		t.Fatalf("simulate printed:\n%s\n%s", out, stderr.String())
	}
	t.Logf("simulate:\n%s", out)
	for _, want := range []string{"contacts a second", "phone-cti ", "sms ", "email ", "fax "} {
		if !strings.Contains(string(out), want) {
			t.Errorf("simulate's capacity figures lack %q:\n%s", want, out)
		}
	}

	today := time.Now().In(gw.Config.Location)
	var sum reports.Summary
	if code := harness.API(t, "GET", gw.URL+"/api/v1/reports/summary?from="+today.AddDate(0, 0, -8).Format(time.DateOnly)+"&to="+today.Format(time.DateOnly), sup, nil, &sum); code != 200 {
		t.Fatalf("summary %d", code)
	}
	within := func(what string, count, of int64, share float64) {
		t.Helper()
		got := float64(count) / float64(of)
		se := math.Sqrt(share * (1 - share) / float64(of))
		if math.Abs(got-share) > 4*se {
			t.Errorf("%s: %.4f of %d, the profile says %.4f (± %.4f)", what, got, of, share, 4*se)
		}
	}
	if sum.Contacts.Total != n {
		t.Fatalf("report counts %d contacts, simulate sent %d", sum.Contacts.Total, n)
	}
	within("phone", sum.Contacts.ByChannel["phone"], n, 0.80)
	within("sms", sum.Contacts.ByChannel["sms"], n, 0.08)
	within("email", sum.Contacts.ByChannel["email"], n, 0.09)
	within("fax", sum.Contacts.ByChannel["fax"], n, 0.03)
	resolved := n - sum.Outcomes["unresolved"]
	within("first level", sum.Outcomes["first_level"], resolved, 0.935)
	within("transferred by phone", sum.Outcomes["transferred_phone"], resolved, 0.041)
	within("forwarded by email", sum.Outcomes["forwarded_email"], resolved, 0.024)
	// Unresolved contacts are calls nobody answered: no text, so the router's fallback.
	for cat, share := range map[string]float64{"blocco-traffico": 0.4497, "contravvenzioni": 0.1914, "servizi-generici": 0.1189,
		"permessi-ztl": 0.0538, "incentivi-veicoli": 0.0366} {
		within(cat, sum.Contacts.ByCategory[cat], resolved, share)
	}
	answered := float64(sum.Calls.Answered)
	if se := 117 / math.Sqrt(answered); math.Abs(sum.Calls.AvgTalkSeconds-117) > 4*se {
		t.Errorf("average talk %.1f s over %v calls, the profile says 117 s (± %.1f)", sum.Calls.AvgTalkSeconds, answered, 4*se)
	}
	if sum.FirstResponse.Median == nil {
		t.Error("the operators' replies gave no first response time")
	}
	if sum.Calls.Abandoned == 0 || sum.Calls.ServiceLevel <= 0 {
		t.Errorf("calls %+v", sum.Calls)
	}
}

// TestSimulateThroughACTISource: with PBXs configured as cti.sources (no cti.token),
// `sportello simulate` posts its calls as the source it is given, from an address that source
// allows; the answered calls are on the simulated operators' user, which exists and is
// enabled, and each call notes the source that reported it.
func TestSimulateThroughACTISource(t *testing.T) {
	yaml := strings.Replace(emailYAML(""), "cti:\n  token: "+harness.CTIToken, `cti:
  sources:
    - {name: pbx-elsewhere, token: elsewhere-token-0123456789, networks: [192.0.2.0/24]}
    - {name: pbx-sim, token: sim-token-0123456789, networks: [127.0.0.0/8, "::1"]}`, 1)
	gw := harness.Start(t, harness.Options{Dialect: store.SQLite, Replace: yaml})
	cfgPath := filepath.Join(t.TempDir(), "sportello.yaml")
	if err := os.WriteFile(cfgPath, []byte(harness.ConfigYAMLWithTwilio(harness.Options{Replace: yaml}, gw.DataDir, gw.DatabaseURL, "http://127.0.0.1:9")), 0o600); err != nil {
		t.Fatal(err)
	}
	simulate := func(args ...string) (string, error) {
		cmd := exec.Command(harness.Binary(t), append([]string{"simulate", "--config", cfgPath, "--contacts", "20", "--days", "2", "--seed", "7",
			"--url", gw.URL, "--smtp", gw.G.SMTPAddr(), "--send-only"}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// The first source may post only from its own network: its events are refused, and the
	// command says so.
	if out, err := simulate(); err == nil || !strings.Contains(out, "403") {
		t.Fatalf("simulate as pbx-elsewhere from loopback: %v\n%s", err, out)
	}
	if out, err := simulate("--cti-source", "nobody"); err == nil || !strings.Contains(out, `no source "nobody"`) {
		t.Fatalf("simulate as an unknown source: %v\n%s", err, out)
	}
	if out, err := simulate("--cti-source", "pbx-sim", "--seed", "8"); err != nil {
		t.Fatalf("simulate as pbx-sim: %v\n%s", err, out)
	}
	ctx := context.Background()
	calls, _, err := gw.G.Store.ListContacts(ctx, store.ContactFilter{Channel: "phone", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var answered, noted int
	for _, c := range calls {
		full, err := gw.G.Store.GetContact(ctx, c.ID, store.Scope{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(full.ExternalID, "sim-") {
			continue // a Twilio call of the mix
		}
		if full.Call != nil && full.Call.AnsweredAt != nil {
			answered++
			if full.Call.Operator != "simulatore" {
				t.Errorf("call %s answered on %q, want simulatore", full.ExternalID, full.Call.Operator)
			}
		}
		if len(full.Messages) > 0 && strings.Join(full.Messages[0].Notes, "\n") == `chiamata segnalata dal centralino "pbx-sim"` {
			noted++
		}
	}
	if answered == 0 || noted == 0 {
		t.Fatalf("%d answered CTI calls, %d noted as from pbx-sim, of %d phone contacts", answered, noted, len(calls))
	}
}
