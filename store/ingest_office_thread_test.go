package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// forwardedToOffice stores Anna's email with the given Message-ID, forwards its contact to the
// office pm@comune.fi.it and resolves it (outcome forwarded_email), as an operator does; it
// returns the contact id.
func forwardedToOffice(t *testing.T, s *store.Store, messageID string) string {
	t.Helper()
	ctx := context.Background()
	anna, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.Email,
		ExternalID: messageID, MessageID: messageID, From: "anna@example.it", To: "urp@comune.fi.it",
		EnvelopeFrom: "anna@example.it", SenderCheck: channels.SenderPass, Subject: "Multa", Body: "non è mia"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := s.InsertOutboundTx(ctx, tx, channels.Message{ID: store.NewID(), ContactID: anna.ContactID, Channel: channels.Email,
			From: "noreply@055055.example", To: "pm@comune.fi.it", Subject: "Fwd: Multa", Body: "...",
			MessageID: store.NewID() + "@055055.example", Status: store.OutSent}); err != nil {
			return err
		}
		_, err := s.ResolveTx(ctx, tx, anna.ContactID, store.Resolution{Outcome: channels.OutcomeForwardedEmail, Office: "polizia-municipale"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return anna.ContactID
}

// officeAnswer is a mail in pm@comune.fi.it's name answering Anna's message inReplyTo, with
// the given envelope sender and sender check.
func officeAnswer(id, inReplyTo, envelopeFrom string, check channels.SenderCheck) channels.InboundMessage {
	return channels.InboundMessage{Channel: channels.Email, ExternalID: id, MessageID: id, From: "pm@comune.fi.it",
		EnvelopeFrom: envelopeFrom, SenderCheck: check, To: "urp@comune.fi.it", InReplyTo: inReplyTo,
		Subject: "Re: Multa", Body: "Paghi qui: http://evil.example"}
}

// TestIngestForgedOfficeWithHardSenderFailGetsOwnContact: a stranger writes the office's
// address in From and in MAIL FROM alike, so the envelope matches, but SPF (or DMARC) fails
// hard. The mail does not join, nor reopen, the citizen's contact: it gets a contact of its
// own with the note linking the thread it named.
func TestIngestForgedOfficeWithHardSenderFailGetsOwnContact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		annaContact := forwardedToOffice(t, s, "multa-anna@example.it")
		r, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze",
			In: officeAnswer("evil-1@evil.example", "multa-anna@example.it", "pm@comune.fi.it", channels.SenderFail)})
		if err != nil {
			t.Fatal(err)
		}
		if r.ContactID == annaContact || !r.New {
			t.Fatalf("a forged office mail (hard sender fail, MAIL FROM = From = office) joined the citizen's contact %s", annaContact)
		}
		msgs, err := s.Messages(ctx, r.ContactID)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("the forged mail's own contact: %d messages, %v", len(msgs), err)
		}
		if !slices.Contains(msgs[0].Notes, store.ForeignThreadNote+annaContact) {
			t.Errorf("the refused mail lost its link to the thread it named: notes %q", msgs[0].Notes)
		}
		c, err := s.GetContact(ctx, annaContact, store.Scope{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != channels.StatusResolved || len(c.Messages) != 2 {
			t.Errorf("the citizen's contact was touched: status %s, %d messages", c.Status, len(c.Messages))
		}
	})
}

// TestIngestOfficeAnswerJoinsThreadWithoutHardFail: the office's real answers still join and
// reopen the contact when the check found nothing against them: no SPF or DMARC record at all
// (much internal mail of a comune), the DNS unreachable, no check configured, a pass; and over
// IMAP (no envelope) as before.
func TestIngestOfficeAnswerJoinsThreadWithoutHardFail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i, tc := range []struct {
			name, envelopeFrom string
			check              channels.SenderCheck
		}{
			{"no record either way", "pm@comune.fi.it", channels.SenderNone},
			{"DNS unreachable", "pm@comune.fi.it", channels.SenderDNSUnavailable},
			{"not checked", "pm@comune.fi.it", channels.SenderUnchecked},
			{"pass", "pm@comune.fi.it", channels.SenderPass},
			{"IMAP, no envelope", "", channels.SenderNone},
		} {
			annaMessage := fmt.Sprintf("multa-%d@example.it", i)
			annaContact := forwardedToOffice(t, s, annaMessage)
			answer := officeAnswer(fmt.Sprintf("pm-%d@comune.fi.it", i), annaMessage, tc.envelopeFrom, tc.check)
			r, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: answer})
			if err != nil {
				t.Fatal(err)
			}
			if r.ContactID != annaContact {
				t.Errorf("%s: the office's answer opened contact %s instead of joining %s", tc.name, r.ContactID, annaContact)
				continue
			}
			if c, err := s.GetContact(ctx, annaContact, store.Scope{}); err != nil || c.Status != channels.StatusOpen {
				t.Errorf("%s: the office's answer did not reopen the contact: %s %v", tc.name, c.Status, err)
			}
		}
	})
}
