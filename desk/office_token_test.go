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

// The forward's subject carries the office token; the office's answer from a mailer that drops
// In-Reply-To and References joins the thread by it; a later forward to the same office carries
// the same token; the operator's reply to the citizen carries it nowhere.
func TestForwardCarriesOfficeTokenTheCitizenNeverSees(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		op := f.user("op", store.RoleOperator)
		r, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "t1@example.it", MessageID: "t1@example.it",
			From: "mario@example.it", To: "urp@comune.fi.it", Subject: "Ricorso verbale", Body: "il verbale non è mio", ReceivedAt: f.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.d.Resolve(ctx, op, r.ContactID, desk.Resolution{Outcome: "forwarded_email", Office: "polizia-municipale"}); err != nil {
			t.Fatal(err)
		}
		f.waitFor("the forward", func() bool { return len(f.email.Sent()) == 1 })
		forward := f.email.Sent()[0]
		tokens := channels.OfficeTokensIn(forward.Subject)
		issued, err := s.OfficeTokens(ctx, r.ContactID)
		if err != nil || len(tokens) != 1 || len(issued) != 1 || tokens[0] != issued[0] {
			t.Fatalf("the forward's subject %q carries %q; the contact's tokens are %q, %v", forward.Subject, tokens, issued, err)
		}
		token := tokens[0]

		office, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "pm-t1@comune.fi.it", MessageID: "pm-t1@comune.fi.it",
			From: "pm@comune.fi.it", EnvelopeFrom: "pm@comune.fi.it", SenderCheck: channels.SenderNone, To: "noreply@055055.example",
			Subject: "R: " + forward.Subject, Body: "Verbale annullato.", ReceivedAt: f.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if office.ContactID != r.ContactID {
			t.Fatalf("the office's answer without thread headers opened %s instead of joining %s by its token", office.ContactID, r.ContactID)
		}

		m, err := f.d.Reply(ctx, op, r.ContactID, "Il verbale è stato annullato.")
		if err != nil {
			t.Fatal(err)
		}
		f.waitFor("the reply", func() bool { return len(f.email.Sent()) == 2 })
		sent := f.email.Sent()[1]
		for what, v := range map[string]string{"subject": m.Subject, "in-reply-to": m.InReplyTo, "references": strings.Join(m.References, " "),
			"sent subject": sent.Subject, "sent body": sent.Body} {
			if strings.Contains(strings.ToUpper(v), token) {
				t.Errorf("the reply to the citizen carries the office token in its %s: %q", what, v)
			}
		}

		// Another office gets a token of its own, and the thread it is shown leaves the first
		// office's out.
		if err := f.d.Resolve(ctx, op, r.ContactID, desk.Resolution{Outcome: "forwarded_email", Office: "senza-telefono"}); err != nil {
			t.Fatal(err)
		}
		f.waitFor("the forward to another office", func() bool { return len(f.email.Sent()) == 3 })
		other := f.email.Sent()[2]
		if got := channels.OfficeTokensIn(other.Subject); len(got) != 1 || got[0] == token {
			t.Errorf("the forward to another office carries %q, the first office's token is %q", got, token)
		}
		if strings.Contains(strings.ToUpper(other.Body), token) {
			t.Errorf("the forward to another office shows the first office's token %s:\n%s", token, other.Body)
		}

		// The citizen writes again; a later forward to the first office carries its token again.
		if _, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "t2@example.it", MessageID: "t2@example.it",
			InReplyTo: "t1@example.it", From: "mario@example.it", To: "urp@comune.fi.it", Subject: "Re: Ricorso verbale", Body: "novità?",
			ReceivedAt: f.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := f.d.Resolve(ctx, op, r.ContactID, desk.Resolution{Outcome: "forwarded_email", Office: "polizia-municipale"}); err != nil {
			t.Fatal(err)
		}
		f.waitFor("the second forward to the first office", func() bool { return len(f.email.Sent()) == 4 })
		if again := channels.OfficeTokensIn(f.email.Sent()[3].Subject); len(again) != 1 || again[0] != token {
			t.Errorf("the second forward to the same office carries %q, the first %q", again, token)
		}
	})
}

// A contact opened by a mail whose subject holds a token-shaped tag (a mail naming a token it
// may not use gets a contact of its own, subject and all): the reply's subject, taken from that
// mail, leaves the tag out.
func TestReplySubjectLeavesOutOfficeTokenTags(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		op := f.user("op", store.RoleOperator)
		tag := channels.OfficeTokenTag(channels.NewOfficeToken())
		r, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "tag1@example.it", MessageID: "tag1@example.it",
			From: "luisa@example.it", To: "urp@comune.fi.it", Subject: "Re: Inoltro: Multa " + tag, Body: "e quindi?", ReceivedAt: f.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		m, err := f.d.Reply(ctx, op, r.ContactID, "Le rispondiamo.")
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != "Re: Inoltro: Multa" {
			t.Errorf("the reply's subject is %q, want %q (without %s)", m.Subject, "Re: Inoltro: Multa", tag)
		}
	})
}
