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
// returns the contact id and the forward's Message-ID.
func forwardedToOffice(t *testing.T, s *store.Store, messageID string) (contactID, forwardID string) {
	t.Helper()
	ctx := context.Background()
	anna, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.Email,
		ExternalID: messageID, MessageID: messageID, From: "anna@example.it", To: "urp@comune.fi.it",
		EnvelopeFrom: "anna@example.it", SenderCheck: channels.SenderPass, Subject: "Multa", Body: "non è mia"}})
	if err != nil {
		t.Fatal(err)
	}
	forwardID = sendOutbound(t, s, anna.ContactID, channels.Email, "pm@comune.fi.it")
	if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := s.ResolveTx(ctx, tx, anna.ContactID, store.Resolution{Outcome: channels.OutcomeForwardedEmail, Office: "polizia-municipale"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return anna.ContactID, forwardID
}

// sendOutbound stores a message we sent to addr in the contact, as the desk does (a forward, a
// reply), and returns its Message-ID.
func sendOutbound(t *testing.T, s *store.Store, contactID string, ch channels.Kind, to string) string {
	t.Helper()
	id := store.NewID() + "@055055.example"
	if err := s.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		return s.InsertOutboundTx(ctx, tx, channels.Message{ID: store.NewID(), ContactID: contactID, Channel: ch,
			From: "noreply@055055.example", To: to, Subject: "Fwd: Multa", Body: "...", MessageID: id, Status: store.OutSent})
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

// officeAnswer is a mail in pm@comune.fi.it's name answering the message inReplyTo, with the
// given envelope sender and sender check.
func officeAnswer(id, inReplyTo, envelopeFrom string, check channels.SenderCheck) channels.InboundMessage {
	return channels.InboundMessage{Channel: channels.Email, ExternalID: id, MessageID: id, From: "pm@comune.fi.it",
		EnvelopeFrom: envelopeFrom, SenderCheck: check, To: "urp@comune.fi.it", InReplyTo: inReplyTo,
		Subject: "Re: Multa", Body: "Paghi qui: http://evil.example"}
}

// refusedWithNote checks that a message r did not join, nor reopen, the contact (still
// resolved with its messages) and got a contact of its own whose message links the contact.
func refusedWithNote(t *testing.T, s *store.Store, what string, r channels.Receipt, contact string, messages int) {
	t.Helper()
	ctx := context.Background()
	if r.ContactID == contact || !r.New {
		t.Fatalf("%s joined the citizen's contact %s", what, contact)
	}
	msgs, err := s.Messages(ctx, r.ContactID)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("%s: its own contact has %d messages, %v", what, len(msgs), err)
	}
	if !slices.Contains(msgs[0].Notes, store.ForeignThreadNote+contact) {
		t.Errorf("%s lost its link to the thread it named: notes %q", what, msgs[0].Notes)
	}
	c, err := s.GetContact(ctx, contact, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != channels.StatusResolved || len(c.Messages) != messages {
		t.Errorf("%s touched the citizen's contact: status %s, %d messages (want resolved, %d)", what, c.Status, len(c.Messages), messages)
	}
}

// TestIngestForgedOfficeWithHardSenderFailGetsOwnContact: a stranger writes the office's
// address in From and in MAIL FROM alike, so the envelope matches, but SPF (or DMARC) fails
// hard. The mail does not join, nor reopen, the citizen's contact: it gets a contact of its
// own with the note linking the thread it named, even naming our forward's Message-ID.
func TestIngestForgedOfficeWithHardSenderFailGetsOwnContact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		annaContact, forward := forwardedToOffice(t, s, "multa-anna@example.it")
		r, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze",
			In: officeAnswer("evil-1@evil.example", forward, "pm@comune.fi.it", channels.SenderFail)})
		if err != nil {
			t.Fatal(err)
		}
		refusedWithNote(t, s, "a forged office mail (hard sender fail, MAIL FROM = From = office)", r, annaContact, 2)
	})
}

// TestIngestOfficeAnswerJoinsThreadWithoutHardFail: the office's real answers to our forward
// still join and reopen the contact when the check found nothing against them: no SPF or DMARC record at all
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
			annaContact, forward := forwardedToOffice(t, s, annaMessage)
			answer := officeAnswer(fmt.Sprintf("pm-%d@comune.fi.it", i), forward, tc.envelopeFrom, tc.check)
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

// TestIngestOfficeFromNamingCitizenIDGetsOwnContact: the citizen knows their own Message-IDs
// (and anyone who saw one of their mails does): a mail in the office's name naming only those
// does not join as the office's answer, even when nothing shows the From forged (an office
// domain with SPF ~all and DMARC p=none: the envelope says the office, the check finds
// nothing). It gets its own contact, linked by the note.
func TestIngestOfficeFromNamingCitizenIDGetsOwnContact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i, tc := range []struct {
			name, envelopeFrom string
			check              channels.SenderCheck
		}{
			{"SMTP, nothing against it", "pm@comune.fi.it", channels.SenderNone},
			{"SMTP, sender check passed", "pm@comune.fi.it", channels.SenderPass},
			{"IMAP, no envelope", "", channels.SenderNone},
		} {
			annaMessage := fmt.Sprintf("multa-only-%d@example.it", i)
			annaContact, _ := forwardedToOffice(t, s, annaMessage)
			in := officeAnswer(fmt.Sprintf("fake-pm-%d@comune.fi.it", i), annaMessage, tc.envelopeFrom, tc.check)
			in.References = []string{annaMessage}
			r, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: in})
			if err != nil {
				t.Fatal(err)
			}
			refusedWithNote(t, s, tc.name+": an office From naming only the citizen's Message-ID", r, annaContact, 2)
		}
	})
}

// TestIngestOfficeNamingOurMailToAnotherAddressGetsOwnContact: we wrote to two offices in the
// same contact. Each joins by naming our mail to itself; the second naming our forward to the
// first (a copy it was shown, or a guess of which office we asked) does not join.
func TestIngestOfficeNamingOurMailToAnotherAddressGetsOwnContact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		annaContact, forward := forwardedToOffice(t, s, "multa-two@example.it")
		toAnagrafe := sendOutbound(t, s, annaContact, channels.Email, "anagrafe@comune.fi.it")
		in := officeAnswer("anagrafe-1@comune.fi.it", forward, "anagrafe@comune.fi.it", channels.SenderNone)
		in.From, in.References = "anagrafe@comune.fi.it", []string{forward}
		r, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: in})
		if err != nil {
			t.Fatal(err)
		}
		refusedWithNote(t, s, "an office naming our forward to another office", r, annaContact, 3)

		in = officeAnswer("anagrafe-2@comune.fi.it", toAnagrafe, "anagrafe@comune.fi.it", channels.SenderNone)
		in.From = "Anagrafe@Comune.FI.it" // an address compares without case
		if r, err = s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: in}); err != nil {
			t.Fatal(err)
		}
		if r.ContactID != annaContact {
			t.Fatalf("the second office answering our mail to it opened %s instead of joining %s", r.ContactID, annaContact)
		}
	})
}

// TestIngestOfficeAnswerJoinsByAnyReference: an office's mailer threads its answer under its own
// earlier messages: our forward's id is somewhere in References, neither last nor in
// In-Reply-To, with the citizen's ids and ids we never saw around it. It joins.
func TestIngestOfficeAnswerJoinsByAnyReference(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i, refs := range [][]string{
			{"multa-refs-%d@example.it", "FORWARD", "pm-internal-a-%d@comune.fi.it", "pm-internal-b-%d@comune.fi.it"},
			{"FORWARD", "multa-refs-%d@example.it", "pm-internal-a-%d@comune.fi.it"},
		} {
			annaMessage := fmt.Sprintf("multa-refs-%d@example.it", i)
			annaContact, forward := forwardedToOffice(t, s, annaMessage)
			in := officeAnswer(fmt.Sprintf("pm-refs-%d@comune.fi.it", i), fmt.Sprintf("pm-internal-c-%d@comune.fi.it", i), "pm@comune.fi.it", channels.SenderNone)
			for _, r := range refs {
				if r == "FORWARD" {
					r = forward
				} else {
					r = fmt.Sprintf(r, i)
				}
				in.References = append(in.References, r)
			}
			r, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: in})
			if err != nil {
				t.Fatal(err)
			}
			if r.ContactID != annaContact {
				t.Fatalf("References %q: the office's answer opened %s instead of joining %s", in.References, r.ContactID, annaContact)
			}
			msgs, err := s.Messages(ctx, annaContact)
			if err != nil {
				t.Fatal(err)
			}
			if notes := msgs[len(msgs)-1].Notes; len(notes) != 0 {
				t.Errorf("References %q: the joined answer carries notes %q", in.References, notes)
			}
		}
	})
}

// TestIngestOfficeRuleOnPECAndFax: a PEC (an office whose address is a PEC box answers through
// the certified channel) and a fax follow the same rule: naming our mail to that very sender
// joins, naming only the citizen's message does not.
func TestIngestOfficeRuleOnPECAndFax(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i, tc := range []struct {
			channel, sentOn channels.Kind
			office          string
		}{
			{channels.PEC, channels.Email, "pm@pec.comune.fi.it"},
			{channels.Fax, channels.Fax, "+390551234567"},
		} {
			annaMessage := fmt.Sprintf("multa-%s@example.it", tc.channel)
			annaContact, _ := forwardedToOffice(t, s, annaMessage)
			ours := sendOutbound(t, s, annaContact, tc.sentOn, tc.office)
			answer := func(n int, inReplyTo string) channels.InboundMessage {
				id := fmt.Sprintf("%s-%d-%d@office.example", tc.channel, i, n)
				return channels.InboundMessage{Channel: tc.channel, ExternalID: id, MessageID: id, From: tc.office,
					To: "urp@comune.fi.it", InReplyTo: inReplyTo, Subject: "Re: Multa", Body: "risposta"}
			}
			r, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: answer(1, annaMessage)})
			if err != nil {
				t.Fatal(err)
			}
			refusedWithNote(t, s, string(tc.channel)+" naming only the citizen's Message-ID", r, annaContact, 3)
			if r, err = s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: answer(2, ours)}); err != nil {
				t.Fatal(err)
			}
			if r.ContactID != annaContact {
				t.Fatalf("%s answering our message to it opened %s instead of joining %s", tc.channel, r.ContactID, annaContact)
			}
		}
	})
}
