package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/fakedns"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

// startFakeDNS serves TXT records for the gateway's email.dns_server (see fakedns).
func startFakeDNS(t *testing.T, txt map[string]string) string {
	t.Helper()
	srv, err := fakedns.Start("127.0.0.1:0", fakedns.Map(txt))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv.Addr()
}

// TestClosedHoursAnswerIsNoSpamReflector attacks the real gateway over SMTP while it is
// closed, with a DNS server that publishes SPF for the citizens' domains: a forged From
// (envelope elsewhere, or SPF failing) gets no answer; a verified citizen gets one, which
// repeats nothing of the mail, and only one that day.
func TestClosedHoursAnswerIsNoSpamReflector(t *testing.T) {
	relay := startEmailRelay(t)
	dns := startFakeDNS(t, map[string]string{
		"example.it":  "v=spf1 ip4:127.0.0.0/8 -all",
		"example.org": "v=spf1 ip4:127.0.0.0/8 -all",
		"other.it":    "v=spf1 ip4:192.0.2.0/24 -all",
	})
	today := time.Now().In(mustRome(t))
	holidays := `  holidays: ["` + today.AddDate(0, 0, -1).Format("2006-01-02") + `", "` + today.Format("2006-01-02") + `", "` + today.AddDate(0, 0, 1).Format("2006-01-02") + `"]`
	y := emailYAML("email:\n  from: \"Linea Comune <noreply@055055.example>\"\n  relay: " + relay.Addr + "\n  dns_server: " + dns + "\n")
	y = strings.Replace(y, `  close: "23:59"`, `  close: "23:59"`+"\n"+holidays, 1)
	gw := harness.Start(t, harness.Options{Dialect: store.SQLite, Replace: y})
	addr := gw.G.SMTPAddr()

	send := func(envelope, from, id, subject string) {
		t.Helper()
		if err := sendSMTP(t, addr, envelope, "urp@comune.fi.it", citizenMail(id, from, "urp@comune.fi.it", subject, "Visita http://spam.example/offerta")); err != nil {
			t.Fatal(err)
		}
	}
	// The spammer's bounce address in the envelope, the victim in From.
	send("spammer@example.org", "Vittima <victim@example.it>", "spam-1@example.org", "COMPRA ORA http://spam.example")
	// Envelope and From agree, but SPF says this host may not send for other.it.
	send("vittima@other.it", "Vittima <vittima@other.it>", "spam-2@other.it", "COMPRA ORA http://spam.example")
	// A verified citizen.
	send("anna@example.it", "Anna <anna@example.it>", "anna-1@example.it", "Orari anagrafe")
	// The same citizen again, a new contact the same day: no second answer.
	send("anna@example.it", "Anna <anna@example.it>", "anna-2@example.it", "Ancora io")
	// A last verified sender: once its answer is out, everything before it has been decided.
	send("bruno@example.it", "Bruno <bruno@example.it>", "bruno-1@example.it", "Rifiuti")

	deadline := time.Now().Add(30 * time.Second)
	for {
		got := relay.Wait(t, 1)
		done := false
		for _, m := range got {
			if m.To == "bruno@example.it" {
				done = true
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer to the verified sender: %d relayed", len(got))
		}
		time.Sleep(100 * time.Millisecond)
	}
	to := map[string]int{}
	for _, m := range relay.Wait(t, 2) {
		to[m.To]++
		raw := string(m.Data)
		for _, quoted := range []string{"spam.example", "Orari anagrafe", "Rifiuti", "COMPRA"} {
			if strings.Contains(raw, quoted) {
				t.Errorf("the automatic answer to %s repeats %q:\n%s", m.To, quoted, raw)
			}
		}
	}
	if len(to) != 2 || to["anna@example.it"] != 1 || to["bruno@example.it"] != 1 {
		t.Fatalf("automatic answers went to %v; want one each to anna@example.it and bruno@example.it", to)
	}
}
