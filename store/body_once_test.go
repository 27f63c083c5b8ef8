package store_test

import (
	"context"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// The text of a message that opens a contact is stored once, as the contact's body; every
// reader of messages still gets it, and an erasure still reaches it.
func TestOpeningMessageTextIsStoredOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		first := "Buongiorno, quando arriva il rimborso della TARI?"
		r1, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.Email,
			ExternalID: "a@x", MessageID: "a@x", From: "mario@example.it", To: "urp@comune.fi.it", Subject: "TARI", Body: first}})
		if err != nil {
			t.Fatal(err)
		}
		second := "Aggiungo il numero della pratica: 1234."
		r2, err := s.Ingest(ctx, store.IngestRequest{In: channels.InboundMessage{Channel: channels.Email, ExternalID: "b@x",
			MessageID: "b@x", InReplyTo: "a@x", From: "mario@example.it", To: "urp@comune.fi.it", Subject: "Re: TARI", Body: second}})
		if err != nil || r2.ContactID != r1.ContactID {
			t.Fatalf("reply: %+v %v", r2, err)
		}

		var stored string
		var inContact int
		if err := s.QueryRow(ctx, "SELECT body, body_in_contact FROM messages WHERE id = ?", r1.MessageID).Scan(&stored, &inContact); err != nil {
			t.Fatal(err)
		}
		if stored != "" || inContact != 1 {
			t.Fatalf("opening message stored %q, body_in_contact %d: want the text only in the contact", stored, inContact)
		}
		if err := s.QueryRow(ctx, "SELECT body, body_in_contact FROM messages WHERE id = ?", r2.MessageID).Scan(&stored, &inContact); err != nil {
			t.Fatal(err)
		}
		if stored != second || inContact != 0 {
			t.Fatalf("joining message stored %q, body_in_contact %d", stored, inContact)
		}

		c, err := s.GetContact(ctx, r1.ContactID, store.Scope{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Body != first || len(c.Messages) != 2 || c.Messages[0].Body != first || c.Messages[1].Body != second {
			t.Fatalf("contact body %q, messages %+v", c.Body, c.Messages)
		}
		list, _, err := s.ListContacts(ctx, store.ContactFilter{Q: "rimborso"})
		if err != nil || len(list) != 1 || list[0].ID != r1.ContactID {
			t.Fatalf("search by the text: %+v %v", list, err)
		}

		// A call an operator placed opens its contact with an outbound message.
		call, err := s.Ingest(ctx, store.IngestRequest{In: channels.InboundMessage{Channel: channels.Phone, Direction: channels.Outbound,
			ExternalID: "CA1", From: "+390552768000", To: "+393471234567", Body: "richiamata"}})
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.OutboundMessage(ctx, call.MessageID)
		if err != nil || out.Body != "richiamata" {
			t.Fatalf("outbound opening message: %+v %v", out, err)
		}

		if _, err := s.EraseCitizen(ctx, r1.CitizenID, store.Scope{}, "admin", "test"); err != nil {
			t.Fatal(err)
		}
		msgs, err := s.Messages(ctx, r1.ContactID)
		if err != nil || len(msgs) != 2 || msgs[0].Body != store.Erased || msgs[1].Body != store.Erased {
			t.Fatalf("after erasure: %+v %v", msgs, err)
		}
	})
}
