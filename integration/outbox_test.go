package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

// TestEmailWithoutRelayGoesToTheOutbox: with no email.relay (the demo), a reply and a forward
// are kept in the local outbox, marked so in the thread and listed on the outbox page, where
// only users of every comune can look.
func TestEmailWithoutRelayGoesToTheOutbox(t *testing.T) {
	gw := harness.Start(t, harness.Options{})
	if gw.Config.Email.Relay != "" {
		t.Fatal("the test gateway must have no email relay")
	}
	ctx := context.Background()
	op := gw.User(t, "op", store.RoleOperator)
	r, err := gw.G.Ingest.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "ob1@cittadino.it",
		MessageID: "ob1@cittadino.it", From: "anna@cittadino.it", To: "urp@comune.fi.it", Subject: "Rimborso TARI", Body: "Buongiorno, ..."})
	if err != nil {
		t.Fatal(err)
	}
	if st := harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+r.ContactID+"/reply", op, map[string]string{"body": "Gentile Anna, il rimborso è in corso."}, nil); st != http.StatusAccepted {
		t.Fatalf("reply without a relay: %d (want 202, kept in the outbox)", st)
	}
	if st := harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+r.ContactID+"/resolve", op,
		map[string]string{"outcome": "forwarded_email", "office": "polizia-municipale", "note": "per competenza"}, nil); st != http.StatusOK {
		t.Fatalf("forward without a relay: %d (want 200, kept in the outbox)", st)
	}
	var full channels.Contact
	waitUntil(t, 20*time.Second, "both messages in the outbox", func() bool {
		full = channels.Contact{}
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+r.ContactID, op, nil, &full)
		n := 0
		for _, m := range full.Messages {
			if m.Direction == channels.Outbound && m.Status == store.OutOutbox {
				n++
			}
		}
		return n == 2
	})
	kept, err := gw.G.Store.Outbox(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var reply, forward bool
	for _, m := range kept {
		reply = reply || (m.Channel == "email" && m.To == "anna@cittadino.it" && m.Subject == "Re: Rimborso TARI" && strings.Contains(m.Body, "il rimborso è in corso"))
		forward = forward || (m.Channel == "email" && m.To == "pm@comune.fi.it")
	}
	if !reply || !forward {
		t.Fatalf("outbox holds reply=%v forward=%v: %+v", reply, forward, kept)
	}

	// The pages: the thread says where the mail went; the outbox page lists it.
	bg := &browserGateway{G: gw.G, URL: gw.URL}
	bg.user(t, "capo", store.RoleAdmin)
	bg.user(t, "fiorentina", store.RoleSupervisor, "firenze")
	c := pageClient(t)
	pageLogin(t, c, gw.URL, "capo")
	status, page, _ := pageGet(t, c, gw.URL+"/inbox/contacts/"+r.ContactID)
	if status != http.StatusOK || !strings.Contains(page, "nella posta in uscita locale") {
		t.Fatalf("the thread does not say the reply is in the outbox (%d)", status)
	}
	status, page, _ = pageGet(t, c, gw.URL+"/inbox/outbox")
	if status != http.StatusOK || !strings.Contains(page, "Re: Rimborso TARI") || !strings.Contains(page, "pm@comune.fi.it") || !strings.Contains(page, `href="/inbox/outbox"`) {
		t.Fatalf("the outbox page (%d) lacks the reply or the forward:\n%s", status, page)
	}
	scoped := pageClient(t)
	pageLogin(t, scoped, gw.URL, "fiorentina")
	if status, page, _ := pageGet(t, scoped, gw.URL+"/inbox/outbox"); status != http.StatusNotFound || strings.Contains(page, "Rimborso") {
		t.Fatalf("a comune's supervisor sees the whole outbox: %d", status)
	}
}
