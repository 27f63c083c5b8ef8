package desk_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// Rows stored before the parser refused control characters in ids can hold a Message-ID with a
// stray CR (References are kept split on whitespace, CR included, but can hold other control
// characters); go-message refuses a header with CR, so every reply of the thread failed for
// good. The reply threads under the usable ids and leaves the others out.
func TestReplySkipsStoredThreadIDsWithControlCharacters(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		op := f.user("op", store.RoleOperator)
		r, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "m1@example.it", MessageID: "m1@example.it",
			From: "mario@example.it", To: "urp@comune.fi.it", Subject: "Permesso ZTL", Body: "vorrei il permesso", ReceivedAt: f.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "m2\r@example.it", MessageID: "m2\r@example.it",
			InReplyTo: "m1@example.it", References: []string{"m1@example.it", "x\x01y@example.it", "z\x7f@example.it"}, From: "mario@example.it",
			To: "urp@comune.fi.it", Subject: "Re: Permesso ZTL", Body: "ancora", ReceivedAt: f.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		m, err := f.d.Reply(ctx, op, r.ContactID, "Ecco come fare.")
		if err != nil {
			t.Fatal(err)
		}
		if m.InReplyTo != "m1@example.it" || strings.Join(m.References, " ") != "m1@example.it" {
			t.Fatalf("threading: in-reply-to %q, references %q", m.InReplyTo, m.References)
		}
		f.waitFor("the email reply", func() bool { return len(f.email.Sent()) == 1 })
		if e := f.email.Sent()[0]; e.InReplyTo != "m1@example.it" || strings.Join(e.References, " ") != "m1@example.it" {
			t.Fatalf("sent email: %+v", e)
		}
	})
}

// The office's answer to our forward joins the citizen's thread: its References name our
// forward's Message-ID, the one proof that lets an office's mail join (store's threadFor).
// A reply to the citizen afterwards threads under the citizen's messages and ours to them
// only: neither the forward's id nor the office's mail travels to the citizen, who could
// otherwise name it in a mail forged in the office's name.
func TestReplyToCitizenLeavesOutTheOfficeCorrespondence(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		op := f.user("op", store.RoleOperator)
		r, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "c1@example.it", MessageID: "c1@example.it",
			From: "mario@example.it", To: "urp@comune.fi.it", Subject: "Ricorso verbale", Body: "il verbale non è mio", ReceivedAt: f.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.d.Resolve(ctx, op, r.ContactID, desk.Resolution{Outcome: "forwarded_email", Office: "polizia-municipale"}); err != nil {
			t.Fatal(err)
		}
		f.waitFor("the forward", func() bool { return len(f.email.Sent()) == 1 })
		forward := f.email.Sent()[0].MessageID
		if forward == "" || strings.Contains(forward, r.ContactID) {
			t.Fatalf("the forward's Message-ID %q is empty or names the contact", forward)
		}
		office, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "pm1@comune.fi.it", MessageID: "pm1@comune.fi.it",
			InReplyTo: forward, References: []string{"pm0@comune.fi.it", forward}, From: "pm@comune.fi.it", EnvelopeFrom: "pm@comune.fi.it",
			SenderCheck: channels.SenderNone, To: "noreply@055055.example", Subject: "Re: Inoltro", Body: "Verbale annullato.", ReceivedAt: f.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if office.ContactID != r.ContactID {
			t.Fatalf("the office's answer to our forward opened %s instead of joining %s", office.ContactID, r.ContactID)
		}
		m, err := f.d.Reply(ctx, op, r.ContactID, "Il verbale è stato annullato.")
		if err != nil {
			t.Fatal(err)
		}
		if m.InReplyTo != "c1@example.it" || strings.Join(m.References, " ") != "c1@example.it" {
			t.Fatalf("the reply to the citizen threads under in-reply-to %q, references %q; want c1@example.it alone", m.InReplyTo, m.References)
		}
	})
}
