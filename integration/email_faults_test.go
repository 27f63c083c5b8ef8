package integration

import (
	"io"
	"log"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

// startEmailRelayOn runs the test relay on a given address (the one the gateway was configured
// with while nothing listened there).
func startEmailRelayOn(t *testing.T, addr string) *emailRelay {
	t.Helper()
	r := &emailRelay{Addr: addr}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &emailRelaySession{r: r}, nil }))
	srv.Domain = "relay.test"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return r
}

// The outbound SMTP relay is down (connection refused) when an operator replies to an email
// and forwards another to an office: both wait, retried, and leave once it is back, each
// exactly once. (TestEmailIMAPDovecot covers the IMAP side: Dovecot stopped and started under
// the poller, which resumes from its checkpoint and fetches nothing twice.)
func TestEmailRelayDownAndBack(t *testing.T) {
	relayAddr := harness.FreePort(t) // nothing listens there yet
	gw := startEmailGateway(t, store.SQLite, "email:\n  from: \"Linea Comune <noreply@055055.example>\"\n  relay: "+relayAddr+"\n")
	token := gw.User(t, "sup", store.RoleSupervisor)
	smtpAddr := gw.G.SMTPAddr()
	for _, m := range []struct{ id, envelope, from, subject, body string }{
		{"guasto-1@example.it", "anna@example.it", "Anna <anna@example.it>", "Lampione guasto", "Il lampione di via Dante è spento."},
		{"multa-1@example.it", "bruno@example.it", "Bruno <bruno@example.it>", "Contravvenzione", "Vorrei contestare una multa."},
	} {
		if err := sendSMTP(t, smtpAddr, m.envelope, "urp@comune.fi.it", citizenMail(m.id, m.from, "urp@comune.fi.it", m.subject, m.body)); err != nil {
			t.Fatal(err)
		}
	}
	list := waitContacts(t, gw, token, channels.Email, 2, 15*time.Second)
	byFrom := map[string]channels.Contact{}
	for _, c := range list {
		byFrom[c.From] = c
	}
	anna, bruno := byFrom["anna@example.it"], byFrom["bruno@example.it"]
	if anna.ID == "" || bruno.ID == "" {
		t.Fatalf("contacts: %+v", list)
	}
	if st := harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+anna.ID+"/reply", token, map[string]string{"body": "Grazie, mandiamo una squadra."}, nil); st/100 != 2 {
		t.Fatalf("reply: %d", st)
	}
	if st := harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+bruno.ID+"/resolve", token,
		map[string]string{"outcome": "forwarded_email", "office": "polizia-municipale", "category": "contravvenzioni"}, nil); st/100 != 2 {
		t.Fatalf("forward: %d", st)
	}
	lastOut := func(id string) channels.Message {
		var full channels.Contact
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+id, token, nil, &full)
		for i := len(full.Messages) - 1; i >= 0; i-- {
			if full.Messages[i].Direction == channels.Outbound {
				return full.Messages[i]
			}
		}
		return channels.Message{}
	}
	waitUntil(t, 20*time.Second, "failed attempts while the relay is down", func() bool {
		return strings.HasPrefix(lastOut(anna.ID).Error, "retrying") && strings.HasPrefix(lastOut(bruno.ID).Error, "retrying")
	})
	if a, b := lastOut(anna.ID), lastOut(bruno.ID); a.Status != store.OutQueued || b.Status != store.OutQueued {
		t.Fatalf("while the relay is down: reply %q, forward %q; want both queued", a.Status, b.Status)
	}

	relay := startEmailRelayOn(t, relayAddr)
	relay.Wait(t, 2)
	waitUntil(t, 20*time.Second, "both sent", func() bool {
		return lastOut(anna.ID).Status == store.OutSent && lastOut(bruno.ID).Status == store.OutSent
	})
	msgs := relay.Wait(t, 2)
	to := map[string]int{}
	for _, m := range msgs {
		to[m.To]++
	}
	if len(msgs) != 2 || to["anna@example.it"] != 1 || to["pm@comune.fi.it"] != 1 {
		t.Fatalf("relayed %d messages to %v; want the reply to anna and the forward to pm@comune.fi.it, once each", len(msgs), to)
	}
}
