package desk_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sportello/sportello/channels"
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
