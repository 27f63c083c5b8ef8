package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// forwardedWithToken is forwardedToOffice with the office token the desk puts in the forward's
// subject: Anna's contact forwarded to pm@comune.fi.it, and the token issued to that address.
func forwardedWithToken(t *testing.T, s *store.Store, messageID string) (contactID, forwardID, token string) {
	t.Helper()
	contactID, forwardID = forwardedToOffice(t, s, messageID)
	return contactID, forwardID, issueToken(t, s, contactID, "pm@comune.fi.it")
}

func issueToken(t *testing.T, s *store.Store, contactID, addr string) string {
	t.Helper()
	var token string
	if err := s.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		var err error
		token, err = s.OfficeTokenTx(ctx, tx, contactID, addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return token
}

// headerlessAnswer is a mail in pm@comune.fi.it's name with neither In-Reply-To nor References
// (a webmail, a shared mailbox, a ticket system's fresh mail), the office's own envelope and
// nothing against it in the sender check.
func headerlessAnswer(id, subject string) channels.InboundMessage {
	in := officeAnswer(id, "", "pm@comune.fi.it", channels.SenderNone)
	in.Subject = subject
	in.Body = "Verbale annullato."
	return in
}

// TestOfficeTokenIssuedOncePerContactAndAddress: later mail to the same office carries the
// same token (an address compares without case), another office or contact gets its own.
func TestOfficeTokenIssuedOncePerContactAndAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		anna, _, token := forwardedWithToken(t, s, "multa-once@example.it")
		if got := channels.OfficeTokensIn(channels.WithOfficeToken("Inoltro", token)); len(got) != 1 || got[0] != token {
			t.Fatalf("token %q does not read back from a subject: %q", token, got)
		}
		if again := issueToken(t, s, anna, " PM@Comune.FI.it "); again != token {
			t.Errorf("a later mail to the same office got token %q, the first %q", again, token)
		}
		other := issueToken(t, s, anna, "anagrafe@comune.fi.it")
		bruno, _ := forwardedToOffice(t, s, "multa-once-bruno@example.it")
		brunos := issueToken(t, s, bruno, "pm@comune.fi.it")
		if other == token || brunos == token || other == brunos {
			t.Errorf("tokens shared across offices or contacts: %q %q %q", token, other, brunos)
		}
		got, err := s.OfficeTokens(ctx, anna)
		if err != nil || len(got) != 2 || !slices.Contains(got, token) || !slices.Contains(got, other) {
			t.Errorf("OfficeTokens(anna) = %q, %v; want %q and %q", got, err, token, other)
		}
	})
}

// TestIngestOfficeAnswerJoinsByTokenFromItsAddress: the office's answer without thread headers
// joins and reopens the contact when its subject carries the token issued to its very From
// (in any case, on email, PEC and fax), with no note.
func TestIngestOfficeAnswerJoinsByTokenFromItsAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i, tc := range []struct {
			name    string
			channel channels.Kind
			from    string
			subject func(token string) string
		}{
			{"the forward's subject answered", channels.Email, "pm@comune.fi.it", func(tok string) string {
				return "R: [Linea Comune] Inoltro: Multa " + channels.OfficeTokenTag(tok)
			}},
			{"a ticket system's fresh subject, lower case", channels.Email, "PM@comune.fi.it", func(tok string) string {
				return "[Ticket#4711] Pratica aperta " + strings.ToLower(channels.OfficeTokenTag(tok))
			}},
			{"a PEC", channels.PEC, "pm@comune.fi.it", func(tok string) string { return "POSTA CERTIFICATA: Re: Multa " + channels.OfficeTokenTag(tok) }},
		} {
			anna, _, token := forwardedWithToken(t, s, fmt.Sprintf("multa-token-%d@example.it", i))
			in := headerlessAnswer(fmt.Sprintf("pm-token-%d@comune.fi.it", i), tc.subject(token))
			in.Channel, in.From, in.EnvelopeFrom = tc.channel, tc.from, tc.from
			r, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: in})
			if err != nil {
				t.Fatal(err)
			}
			if r.ContactID != anna {
				t.Errorf("%s: the office's answer opened %s instead of joining %s", tc.name, r.ContactID, anna)
				continue
			}
			c, err := s.GetContact(ctx, anna, store.Scope{})
			if err != nil || c.Status != channels.StatusOpen {
				t.Errorf("%s: the office's answer did not reopen the contact: %s %v", tc.name, c.Status, err)
				continue
			}
			if notes := c.Messages[len(c.Messages)-1].Notes; len(notes) != 0 {
				t.Errorf("%s: the joined answer carries notes %q", tc.name, notes)
			}
		}
	})
}

// TestIngestOfficeTokenFromAnotherAddressIsForeign: the token admits only the address it was
// issued to. Another office, the citizen, a stranger: each gets a contact of its own with the
// note linking the thread, as for a Message-ID they name.
func TestIngestOfficeTokenFromAnotherAddressIsForeign(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		anna, _, token := forwardedWithToken(t, s, "multa-foreign@example.it")
		issueToken(t, s, anna, "anagrafe@comune.fi.it")
		for i, from := range []string{"anagrafe@comune.fi.it", "mallory@evil.example", "pm@comune.fi.it.evil.example"} {
			in := headerlessAnswer(fmt.Sprintf("foreign-%d@x.example", i), "Re: Multa "+channels.OfficeTokenTag(token))
			in.From, in.EnvelopeFrom = from, from
			r, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: in})
			if err != nil {
				t.Fatal(err)
			}
			refusedWithNote(t, s, fmt.Sprintf("the token from %q", from), r, anna, 2)
		}
	})
}

// TestIngestOfficeTokenWithForgedFromIsForeign: the office's address in From and the token,
// but the envelope names someone else, or the sender check failed hard: refused, linked.
func TestIngestOfficeTokenWithForgedFromIsForeign(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		anna, _, token := forwardedWithToken(t, s, "multa-forged@example.it")
		for i, tc := range []struct {
			envelopeFrom string
			check        channels.SenderCheck
		}{
			{"mallory@evil.example", channels.SenderNone},
			{"pm@comune.fi.it", channels.SenderFail},
		} {
			in := headerlessAnswer(fmt.Sprintf("forged-%d@evil.example", i), "Re: Multa "+channels.OfficeTokenTag(token))
			in.EnvelopeFrom, in.SenderCheck = tc.envelopeFrom, tc.check
			r, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: in})
			if err != nil {
				t.Fatal(err)
			}
			refusedWithNote(t, s, fmt.Sprintf("the token under a forged From (envelope %s, check %s)", tc.envelopeFrom, tc.check), r, anna, 2)
		}
	})
}

// TestIngestUnknownOfficeTokenJoinsNothing: a token-shaped tag we never issued (or one of a
// contact since erased) is nothing: a contact of its own, no note.
func TestIngestUnknownOfficeTokenJoinsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		anna, _, token := forwardedWithToken(t, s, "multa-unknown@example.it")
		unknown := channels.NewOfficeToken()
		for unknown == token {
			unknown = channels.NewOfficeToken()
		}
		r, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: headerlessAnswer("unknown-1@comune.fi.it", "Re: Multa "+channels.OfficeTokenTag(unknown))})
		if err != nil {
			t.Fatal(err)
		}
		if r.ContactID == anna || !r.New {
			t.Fatalf("an unknown token joined %s", r.ContactID)
		}
		msgs, err := s.Messages(ctx, r.ContactID)
		if err != nil || len(msgs) != 1 || len(msgs[0].Notes) != 0 {
			t.Fatalf("the unknown token's contact: %+v %v", msgs, err)
		}
	})
}

// TestIngestMessageIDRuleOutranksOfficeToken: the office answers naming our forward in Anna's
// contact while its subject carries the token of Bruno's: the Message-ID decides. A Message-ID
// naming a thread the office may not join does not stop its own token from joining it (the
// note still links the other).
func TestIngestMessageIDRuleOutranksOfficeToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		anna, annaForward, _ := forwardedWithToken(t, s, "multa-prec-anna@example.it")
		bruno, _, brunoToken := forwardedWithToken(t, s, "multa-prec-bruno@example.it")
		in := officeAnswer("prec-1@comune.fi.it", annaForward, "pm@comune.fi.it", channels.SenderNone)
		in.Subject = "Re: Multa " + channels.OfficeTokenTag(brunoToken)
		r, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: in})
		if err != nil {
			t.Fatal(err)
		}
		if r.ContactID != anna {
			t.Fatalf("naming Anna's forward with Bruno's token joined %s, want Anna's %s (Bruno's is %s)", r.ContactID, anna, bruno)
		}

		in = officeAnswer("prec-2@comune.fi.it", "multa-prec-anna@example.it", "pm@comune.fi.it", channels.SenderNone)
		in.Subject = "Re: Multa " + channels.OfficeTokenTag(brunoToken)
		if r, err = s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: in}); err != nil {
			t.Fatal(err)
		}
		if r.ContactID != bruno {
			t.Fatalf("naming only Anna's own id with Bruno's token opened %s, want Bruno's %s", r.ContactID, bruno)
		}
		msgs, err := s.Messages(ctx, bruno)
		if err != nil || !slices.Contains(msgs[len(msgs)-1].Notes, store.ForeignThreadNote+anna) {
			t.Errorf("the answer joined by token lost the link to the thread it named: %+v %v", msgs[len(msgs)-1].Notes, err)
		}
	})
}

// TestExportCitizenLeavesOutTheOfficeToken: the citizen's export carries the token nowhere:
// not in our forward's subject, not in the office's answer's subject or its quote of ours.
func TestExportCitizenLeavesOutTheOfficeToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		anna, _, token := forwardedWithToken(t, s, "multa-export-token@example.it")
		if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			return s.InsertOutboundTx(ctx, tx, channels.Message{ID: store.NewID(), ContactID: anna, Channel: channels.Email,
				From: "noreply@055055.example", To: "pm@comune.fi.it", Subject: channels.WithOfficeToken("[Linea Comune] Inoltro: Multa", token),
				Body: "...", MessageID: store.NewID() + "@055055.example", Status: store.OutSent})
		}); err != nil {
			t.Fatal(err)
		}
		in := headerlessAnswer("export-token@comune.fi.it", "R: [Linea Comune] Inoltro: Multa "+channels.OfficeTokenTag(token))
		in.Body = "Verbale annullato.\n\n> Oggetto: [Linea Comune] Inoltro: Multa " + channels.OfficeTokenTag(token) + "\n> Pratica " + strings.ToLower(token)
		if r, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: in}); err != nil || r.ContactID != anna {
			t.Fatalf("the office's answer: %+v %v", r, err)
		}
		raw := exportedContacts(t, s, anna)
		if strings.Contains(strings.ToUpper(string(raw)), token) {
			t.Errorf("the export holds the office token %s:\n%s", token, raw)
		}
		for _, want := range []string{"[Linea Comune] Inoltro: Multa", "Verbale annullato.", "non è mia"} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("the export lost %q:\n%s", want, raw)
			}
		}
	})
}

// TestEraseCitizenDeletesTheirOfficeTokens: an erasure takes the contact's tokens with its
// texts; the office answering by one afterwards opens a contact of its own, linked to nothing.
func TestEraseCitizenDeletesTheirOfficeTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		anna, _, token := forwardedWithToken(t, s, "multa-erase-token@example.it")
		c, err := s.GetContact(ctx, anna, store.Scope{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.EraseCitizen(ctx, c.Citizen.ID, store.Scope{}, "admin", "richiesta"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.OfficeTokens(ctx, anna); err != nil || len(got) != 0 {
			t.Fatalf("after the erasure the contact still has tokens %q, %v", got, err)
		}
		r, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: headerlessAnswer("after-erase@comune.fi.it", "Re: Multa "+channels.OfficeTokenTag(token))})
		if err != nil {
			t.Fatal(err)
		}
		if r.ContactID == anna {
			t.Fatal("an office's answer joined the erased contact by its token")
		}
		msgs, err := s.Messages(ctx, r.ContactID)
		if err != nil || len(msgs) != 1 || len(msgs[0].Notes) != 0 {
			t.Fatalf("the answer after the erasure: %+v %v", msgs, err)
		}
	})
}
