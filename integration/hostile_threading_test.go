package integration

import (
	"strings"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

// withThreadHeaders adds In-Reply-To and References naming id to a message.
func withThreadHeaders(msg, id string) string {
	return strings.Replace(msg, "MIME-Version: 1.0", "In-Reply-To: <"+id+">\r\nReferences: <"+id+">\r\nMIME-Version: 1.0", 1)
}

// TestMailThreadsOnlyFromItsOwnPeople: a stranger who names a known Message-ID (of another
// comune's citizen) in In-Reply-To gets a contact of their own, linked by a note, and the
// citizen's resolved contact is neither appended to nor reopened; the office we forwarded the
// contact to does join the thread when it answers our forward, but not a stranger who writes
// the office's address in From, nor a mail in the office's name naming only the citizen's
// Message-ID.
func TestMailThreadsOnlyFromItsOwnPeople(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := forwardAnnasMail(t, d, "admin-thr", "multa-anna@example.it")
		gw, token, addr, anna, fwd := f.gw, f.token, f.addr, f.anna, f.fwd
		if fwd.To != "pm@comune.fi.it" {
			t.Fatalf("forwarded to %s", fwd.To)
		}
		fwdID := ""
		for _, line := range strings.Split(string(fwd.Data), "\r\n") {
			if strings.HasPrefix(strings.ToLower(line), "message-id:") {
				fwdID = strings.Trim(strings.TrimSpace(line[len("message-id:"):]), "<>")
			}
		}

		// The attack: a stranger writes to Empoli naming Anna's Message-ID.
		if err := sendSMTP(t, addr, "mallory@evil.example", "urp@comune.empoli.fi.it", withThreadHeaders(
			citizenMail("mallory-1@evil.example", "Mallory <mallory@evil.example>", "urp@comune.empoli.fi.it", "Re: Multa via Roma", "Vedi link http://evil.example"),
			"multa-anna@example.it")); err != nil {
			t.Fatal(err)
		}
		var annaNow channels.Contact
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+anna.ID, token, nil, &annaNow)
		for _, m := range annaNow.Messages {
			if strings.Contains(m.Body, "evil.example") {
				t.Fatalf("the stranger's mail joined Anna's contact: %+v", annaNow.Messages)
			}
		}
		if annaNow.Status != channels.StatusResolved {
			t.Fatalf("Anna's contact was reopened by a stranger: %s", annaNow.Status)
		}
		var mallory *channels.Contact
		for _, c := range contactsOf(t, gw, token, channels.Email) {
			if c.From == "mallory@evil.example" {
				mallory = &c
			}
		}
		if mallory == nil || mallory.ID == anna.ID || mallory.Comune == nil || *mallory.Comune != "empoli" {
			t.Fatalf("the stranger's mail is not a contact of its own in Empoli: %+v", mallory)
		}
		var full channels.Contact
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+mallory.ID, token, nil, &full)
		if len(full.Messages) != 1 || len(full.Messages[0].Notes) == 0 || !strings.Contains(strings.Join(full.Messages[0].Notes, "\n"), store.ForeignThreadNote+anna.ID) {
			t.Fatalf("the stranger's contact does not show the link to the thread it named: %+v", full.Messages)
		}

		// Mallory again, now writing the office's address in From (her own envelope sender):
		// a From anyone can forge does not make her the office we wrote to.
		if err := sendSMTP(t, addr, "mallory@evil.example", "urp@comune.fi.it", withThreadHeaders(
			citizenMail("mallory-2@evil.example", "Polizia Municipale <pm@comune.fi.it>", "urp@comune.fi.it", "Re: Inoltro", "Paga qui http://evil.example/pay"),
			fwdID)); err != nil {
			t.Fatal(err)
		}
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+anna.ID, token, nil, &annaNow)
		for _, m := range annaNow.Messages {
			if strings.Contains(m.Body, "evil.example") {
				t.Fatalf("a forged office From joined Anna's thread: %+v", annaNow.Messages)
			}
		}

		// The office's own envelope and From, but naming only Anna's Message-ID (what Anna, or
		// anyone shown her mail, knows): with an office domain that enforces nothing the sender
		// check cannot tell, and the mail is no answer to our forward. Its own contact, linked.
		if err := sendSMTP(t, addr, "pm@comune.fi.it", "urp@comune.fi.it", withThreadHeaders(
			citizenMail("fake-pm-1@comune.fi.it", "Polizia Municipale <pm@comune.fi.it>", "urp@comune.fi.it", "Re: Multa via Roma", "Paga qui http://evil.example/pay2"),
			"multa-anna@example.it")); err != nil {
			t.Fatal(err)
		}
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+anna.ID, token, nil, &annaNow)
		for _, m := range annaNow.Messages {
			if strings.Contains(m.Body, "evil.example") {
				t.Fatalf("an office From naming only the citizen's Message-ID joined Anna's thread: %+v", annaNow.Messages)
			}
		}
		var fake *channels.Contact
		for _, c := range contactsOf(t, gw, token, channels.Email) {
			if c.Subject == "Re: Multa via Roma" && c.From == "pm@comune.fi.it" {
				fake = &c
			}
		}
		if fake == nil {
			t.Fatal("the mail in the office's name naming Anna's Message-ID is not a contact of its own")
		}
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+fake.ID, token, nil, &full)
		if len(full.Messages) != 1 || !strings.Contains(strings.Join(full.Messages[0].Notes, "\n"), store.ForeignThreadNote+anna.ID) {
			t.Fatalf("the refused office mail does not show the link to the thread it named: %+v", full.Messages)
		}

		// The office answers our forward: that joins Anna's thread.
		if err := sendSMTP(t, addr, "pm@comune.fi.it", "urp@comune.fi.it", withThreadHeaders(
			citizenMail("pm-1@comune.fi.it", "Polizia Municipale <pm@comune.fi.it>", "urp@comune.fi.it", "Re: Inoltro", "Verbale annullato."),
			fwdID)); err != nil {
			t.Fatal(err)
		}
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+anna.ID, token, nil, &annaNow)
		last := annaNow.Messages[len(annaNow.Messages)-1]
		if last.Body != "Verbale annullato." {
			t.Fatalf("the office's answer did not join the thread: %+v", annaNow.Messages)
		}
		// And Anna, answering her own thread, joins it too.
		if err := sendSMTP(t, addr, "anna@example.it", "urp@comune.fi.it", withThreadHeaders(
			citizenMail("anna-2@example.it", "Anna <anna@example.it>", "urp@comune.fi.it", "grazie", "Grazie!"), "multa-anna@example.it")); err != nil {
			t.Fatal(err)
		}
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+anna.ID, token, nil, &annaNow)
		if annaNow.Messages[len(annaNow.Messages)-1].Body != "Grazie!" {
			t.Fatalf("the citizen's own answer did not join: %+v", annaNow.Messages)
		}
	})
}
