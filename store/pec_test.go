package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

func TestPECCertificationAndDeliveryReceipts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sent := time.Date(2026, 11, 27, 8, 15, 30, 0, time.UTC)
		cert := &channels.PECInfo{ID: "opec1@pec.example", Sender: "mario@pec.example", SentAt: &sent, Provider: "Gestore S.p.A.",
			EnvelopeSHA256: "ab12", Signature: "valid", Signer: "CN=posta-certificata@pec.example"}
		r, err := s.Ingest(ctx, store.IngestRequest{In: channels.InboundMessage{Channel: channels.PEC, ExternalID: "opec1@pec.example",
			MessageID: "orig1@pec.example", From: "mario@pec.example", To: "protocollo@pec.comune.fi.it", Subject: "Richiesta",
			Body: "testo", PEC: cert, Attachments: []channels.Attachment{{Filename: "envelope.eml", ContentType: "message/rfc822", Data: []byte("raw")}}},
			Comune: "firenze"})
		if err != nil || !r.New {
			t.Fatalf("ingest: %+v %v", r, err)
		}
		c, err := s.GetContact(ctx, r.ContactID, store.Scope{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Channel != channels.PEC || c.PEC == nil || c.PEC.ID != "opec1@pec.example" || !c.PEC.SentAt.Equal(sent) || c.PEC.Signature != "valid" {
			t.Fatalf("contact pec: %+v", c.PEC)
		}
		if c.Citizen.Email == nil || *c.Citizen.Email != "mario@pec.example" {
			t.Errorf("a PEC sender is an email identity: %+v", c.Citizen)
		}
		if len(c.Messages) != 1 || c.Messages[0].PEC == nil || c.Messages[0].Delivery != nil {
			t.Fatalf("message: %+v", c.Messages)
		}

		// Our reply, due a receipt an hour ago.
		due := time.Now().Add(-time.Hour)
		reply := channels.Message{ID: store.NewID(), ContactID: c.ID, Direction: channels.Outbound, Channel: channels.PEC,
			From: "protocollo@pec.comune.fi.it", To: "mario@pec.example", Body: "risposta", MessageID: "reply1@sportello.example",
			Status: store.OutQueued, Author: "op", DeliveryDueAt: &due}
		if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error { return s.InsertOutboundTx(ctx, tx, reply) }); err != nil {
			t.Fatal(err)
		}
		state := func() (channels.Contact, channels.Message) {
			t.Helper()
			c, err := s.GetContact(ctx, r.ContactID, store.Scope{})
			if err != nil {
				t.Fatal(err)
			}
			return c, c.Messages[len(c.Messages)-1]
		}
		if c, m := state(); !c.DeliveryOverdue || !m.DeliveryOverdue || m.Delivery != nil {
			t.Fatalf("no receipt past the deadline must be flagged: contact %v message %v %v", c.DeliveryOverdue, m.DeliveryOverdue, m.Delivery)
		}
		list, _, err := s.ListContacts(ctx, store.ContactFilter{Limit: 10})
		if err != nil || len(list) != 1 || !list[0].DeliveryOverdue {
			t.Fatalf("the list shows the flag too: %+v %v", list, err)
		}

		receipt := func(typ, delivery, raw string) error {
			_, err := s.ApplyDeliveryReceipt(ctx, channels.DeliveryReceipt{Channel: channels.PEC, Comune: "firenze",
				RefMessageID: "<reply1@sportello.example>", CertifiedSender: "protocollo@pec.comune.fi.it", Type: typ, Delivery: delivery, Note: "ricevuta di " + typ,
				Attachment: channels.Attachment{Filename: "ricevuta-" + typ + ".eml", ContentType: "message/rfc822", Data: []byte(raw)}})
			return err
		}
		if err := receipt("accettazione", channels.DeliveryAccepted, "acc"); err != nil {
			t.Fatal(err)
		}
		if c, m := state(); m.Delivery == nil || *m.Delivery != "accepted" || !m.DeliveryOverdue || !c.DeliveryOverdue {
			t.Fatalf("after acceptance: %v overdue %v", m.Delivery, m.DeliveryOverdue)
		}
		if err := receipt("avvenuta-consegna", channels.DeliveryDelivered, "del"); err != nil {
			t.Fatal(err)
		}
		// Read twice (a mailbox read again): attached once; a late acceptance changes nothing.
		if err := receipt("avvenuta-consegna", channels.DeliveryDelivered, "del"); err != nil {
			t.Fatal(err)
		}
		if err := receipt("accettazione", channels.DeliveryAccepted, "acc-late"); err != nil {
			t.Fatal(err)
		}
		c, m := state()
		if m.Delivery == nil || *m.Delivery != "delivered" || m.DeliveryOverdue || c.DeliveryOverdue {
			t.Fatalf("after delivery: %v overdue %v/%v", m.Delivery, m.DeliveryOverdue, c.DeliveryOverdue)
		}
		if len(m.Attachments) != 3 || m.Attachments[1].Filename != "ricevuta-avvenuta-consegna.eml" {
			t.Errorf("receipts attached: %+v", m.Attachments)
		}
		if len(m.Notes) != 3 {
			t.Errorf("notes: %q", m.Notes)
		}
		// A later final state contradicting the first is news for the notes, not the state.
		if err := receipt("errore-consegna", channels.DeliveryFailed, "err"); err != nil {
			t.Fatal(err)
		}
		if _, m := state(); *m.Delivery != "delivered" || len(m.Notes) != 4 || !strings.Contains(m.Notes[3], "ricevuta di errore-consegna — stato di consegna non cambiato") {
			t.Errorf("a later failure replaced the first final state: %v, notes %q", *m.Delivery, m.Notes)
		}
		_, err = s.ApplyDeliveryReceipt(ctx, channels.DeliveryReceipt{Channel: channels.PEC, Comune: "firenze", RefMessageID: "someone-else@x", Delivery: "accepted"})
		if !errors.Is(err, channels.ErrUnknownMessage) {
			t.Errorf("unknown message: %v", err)
		}
		// The generic setter (SMS, App IO statuses) keeps the same rule.
		if err := s.SetMessageDelivery(ctx, reply.ID, channels.DeliveryAccepted); err != nil {
			t.Fatal(err)
		}
		if _, m := state(); *m.Delivery != "delivered" {
			t.Errorf("accepted overwrote a final state: %v", *m.Delivery)
		}
		if err := s.SetMessageDelivery(ctx, reply.ID, channels.DeliveryFailed); err != nil {
			t.Fatal(err)
		}
		if _, m := state(); *m.Delivery != "failed" {
			t.Errorf("set failed: %v", *m.Delivery)
		}
		if err := s.SetMessageDelivery(ctx, "nope", channels.DeliveryDelivered); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown message: %v", err)
		}
		// An SMS's provider status reads as its delivery when nothing else set one.
		sms := channels.Message{ID: store.NewID(), ContactID: c.ID, Direction: channels.Outbound, Channel: channels.SMS,
			From: "+39055055", To: "+393471234567", Body: "ok", Status: "undelivered"}
		if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error { return s.InsertOutboundTx(ctx, tx, sms) }); err != nil {
			t.Fatal(err)
		}
		if _, m := state(); m.ID != sms.ID || m.Delivery == nil || *m.Delivery != "failed" {
			t.Errorf("SMS delivery: %+v", m.Delivery)
		}
		// The same Message-ID on another channel is not ours to update.
		_, err = s.ApplyDeliveryReceipt(ctx, channels.DeliveryReceipt{Channel: channels.Email, Comune: "firenze", RefMessageID: "reply1@sportello.example", Delivery: "accepted"})
		if !errors.Is(err, channels.ErrUnknownMessage) {
			t.Errorf("other channel: %v", err)
		}
	})
}

// pecReply stores a firenze PEC contact and our reply to it, sent from the comune's PEC
// address; it returns the contact and the reply's Message-ID.
func pecReply(t *testing.T, s *store.Store, messageID string) (contactID string) {
	t.Helper()
	ctx := context.Background()
	r, err := s.Ingest(ctx, store.IngestRequest{In: channels.InboundMessage{Channel: channels.PEC, ExternalID: "opec-" + messageID,
		MessageID: "orig-" + messageID, From: "mario@pec.example", To: "protocollo@pec.comune.fi.it", Subject: "Richiesta", Body: "testo"},
		Comune: "firenze"})
	if err != nil {
		t.Fatal(err)
	}
	reply := channels.Message{ID: store.NewID(), ContactID: r.ContactID, Direction: channels.Outbound, Channel: channels.PEC,
		From: `"Comune di Firenze" <Protocollo@pec.comune.fi.it>`, To: "mario@pec.example", Body: "risposta", MessageID: messageID,
		Status: store.OutQueued, Author: "op"}
	if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error { return s.InsertOutboundTx(ctx, tx, reply) }); err != nil {
		t.Fatal(err)
	}
	return r.ContactID
}

// lastMessage is the contact's newest message.
func lastMessage(t *testing.T, s *store.Store, contactID string) channels.Message {
	t.Helper()
	c, err := s.GetContact(context.Background(), contactID, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	return c.Messages[len(c.Messages)-1]
}

func TestPECReceiptMatchesOnlyAMessageOfTheMailboxComune(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		contactID := pecReply(t, s, "reply-comune@sportello.example")
		failed := func(comune, raw string) error {
			_, err := s.ApplyDeliveryReceipt(ctx, channels.DeliveryReceipt{Channel: channels.PEC, Comune: comune,
				RefMessageID: "reply-comune@sportello.example", Type: "errore-consegna", Delivery: channels.DeliveryFailed, Note: "errore",
				Attachment: channels.Attachment{Filename: "ricevuta.eml", ContentType: "message/rfc822", Data: []byte(raw)}})
			return err
		}
		for _, comune := range []string{"prato", ""} {
			if err := failed(comune, "from "+comune); !errors.Is(err, channels.ErrUnknownMessage) {
				t.Errorf("a receipt from comune %q's box matched firenze's message: %v", comune, err)
			}
		}
		if m := lastMessage(t, s, contactID); m.Delivery != nil || len(m.Attachments) != 0 || len(m.Notes) != 0 {
			t.Fatalf("another comune's receipt touched the message: delivery %v, %d attachments, notes %q", m.Delivery, len(m.Attachments), m.Notes)
		}
		if err := failed("firenze", "from firenze"); err != nil {
			t.Fatal(err)
		}
		if m := lastMessage(t, s, contactID); m.Delivery == nil || *m.Delivery != channels.DeliveryFailed {
			t.Errorf("the box's own comune: delivery %v", m.Delivery)
		}
	})
}

func TestPECReceiptKeepsTheFirstFinalState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, order := range [][2]string{{channels.DeliveryDelivered, channels.DeliveryFailed}, {channels.DeliveryFailed, channels.DeliveryDelivered}} {
			ref := "reply-" + order[0] + "@sportello.example"
			contactID := pecReply(t, s, ref)
			for i, d := range []string{channels.DeliveryAccepted, order[0], order[1], order[0]} {
				_, err := s.ApplyDeliveryReceipt(ctx, channels.DeliveryReceipt{Channel: channels.PEC, Comune: "firenze", RefMessageID: ref,
					CertifiedSender: "protocollo@pec.comune.fi.it", Delivery: d, Note: "ricevuta " + d,
					Attachment: channels.Attachment{Filename: "r.eml", ContentType: "message/rfc822", Data: []byte(fmt.Sprint(ref, i))}})
				if err != nil {
					t.Fatal(err)
				}
			}
			m := lastMessage(t, s, contactID)
			if m.Delivery == nil || *m.Delivery != order[0] {
				t.Errorf("%s then %s: delivery %v, want the first final state", order[0], order[1], m.Delivery)
			}
			if len(m.Notes) != 4 || !strings.Contains(m.Notes[2], "stato di consegna non cambiato") || strings.Contains(m.Notes[3], "non cambiato") {
				t.Errorf("%s then %s: the contradicting receipt, and only it, is noted as not applied: %q", order[0], order[1], m.Notes)
			}
			if len(m.Attachments) != 4 {
				t.Errorf("every receipt is kept: %d attachments", len(m.Attachments))
			}
		}
	})
}

func TestPECReceiptCertifyingAnotherSenderChangesNoState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		contactID := pecReply(t, s, "reply-sender@sportello.example")
		receipt := func(sender string) {
			t.Helper()
			_, err := s.ApplyDeliveryReceipt(ctx, channels.DeliveryReceipt{Channel: channels.PEC, Comune: "firenze",
				RefMessageID: "reply-sender@sportello.example", CertifiedSender: sender, Delivery: channels.DeliveryFailed, Note: "errore da " + sender,
				Attachment: channels.Attachment{Filename: "r.eml", ContentType: "message/rfc822", Data: []byte(sender)}})
			if err != nil {
				t.Fatal(err)
			}
		}
		receipt("mallory@pec.example")
		m := lastMessage(t, s, contactID)
		if m.Delivery != nil || len(m.Attachments) != 1 || len(m.Notes) != 1 || !strings.Contains(m.Notes[0], "certifica il mittente mallory@pec.example") {
			t.Fatalf("a receipt about another sender's message: delivery %v, %d attachments, notes %q", m.Delivery, len(m.Attachments), m.Notes)
		}
		// The From's display name and case do not make our own sender another.
		receipt("protocollo@pec.comune.fi.it")
		if m := lastMessage(t, s, contactID); m.Delivery == nil || *m.Delivery != channels.DeliveryFailed {
			t.Errorf("the certified sender is the message's From: delivery %v", m.Delivery)
		}
	})
}
