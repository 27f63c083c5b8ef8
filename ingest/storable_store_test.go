package ingest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/ingest"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// A NUL can come from any channel (an SMTP client's header, a webhook's %00), and PostgreSQL
// refuses it in text: the door removes it, so the message is stored instead of failing on
// every attempt.
func TestReceiveStoresAMessageWithNULInItsText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc, err := ingest.New(ingest.Options{Store: s})
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		in := channels.InboundMessage{Channel: channels.Email, ExternalID: "m\x001@example.it", MessageID: "m\x001@example.it",
			From: "anna\x00@example.it", FromName: "An\x00na", To: "urp@comune.fi.it", Subject: "Bu\x00ca", Body: "via dei\x00 Neri",
			InReplyTo: "m\x000@example.it", References: []string{"m\x000@example.it"}, Notes: []string{"no\x00ta"},
			Attachments: []channels.Attachment{{Filename: "fo\x00to.jpg", ContentType: "image/jpeg\x00", Size: 3, Data: []byte{0, 1, 0}}}}
		r, err := svc.Receive(ctx, in)
		if err != nil {
			t.Fatalf("a message with NUL in its text was not stored: %v", err)
		}
		msgs, err := s.Messages(ctx, r.ContactID)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("messages: %v %v", msgs, err)
		}
		m := msgs[0]
		if m.From != "anna@example.it" || m.Subject != "Buca" || m.Body != "via dei Neri" || m.MessageID != "m1@example.it" ||
			m.InReplyTo != "m0@example.it" || strings.Join(m.References, " ") != "m0@example.it" || strings.Join(m.Notes, " ") != "nota" {
			t.Fatalf("stored: %+v", m)
		}
		atts, err := s.ContactAttachments(ctx, r.ContactID)
		if err != nil || len(atts) != 1 || atts[0].Filename != "foto.jpg" || atts[0].ContentType != "image/jpeg" ||
			string(atts[0].Data) != "\x00\x01\x00" {
			t.Fatalf("attachments: %+v %v (the data's bytes are kept as they are)", atts, err)
		}
		if in.Subject != "Bu\x00ca" || in.Attachments[0].Filename != "fo\x00to.jpg" {
			t.Fatalf("the adapter's message was written: %+v", in)
		}
		// The same message again is recognized by its cleaned id.
		if r2, err := svc.Receive(ctx, in); err != nil || !r2.Duplicate {
			t.Fatalf("the same message again: %+v %v", r2, err)
		}
	})
}

// A value PostgreSQL cannot hold (here a provider id too long for its index: SQLSTATE 54000)
// fails the same way on every attempt: the door says so with a *ingest.RefusedError, so that
// an adapter does not retry it forever. (Which failures are the database's own, to be
// retried, is TestIsRefusedDataTellsTheDataFromTheDatabasesState in store.)
func TestReceiveReportsAMessageTheDatabaseRefusesAsPermanent(t *testing.T) {
	s := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	svc, err := ingest.New(ingest.Options{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	_, err = svc.Receive(ctx, channels.InboundMessage{Channel: channels.SMS, ExternalID: "SM" + randomText(12000), From: "+393471234567",
		To: "+39055055", Body: "ciao"})
	var refused *ingest.RefusedError
	if !errors.As(err, &refused) || !refused.Permanent() {
		t.Fatalf("want a *ingest.RefusedError, got %T %v", err, err)
	}
}

// Invalid UTF-8 (a webhook's %FF) is text PostgreSQL refuses: the door replaces it, and the
// message is stored on both databases.
func TestReceiveStoresAMessageWithInvalidUTF8(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc, err := ingest.New(ingest.Options{Store: s})
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		r, err := svc.Receive(ctx, channels.InboundMessage{Channel: channels.SMS, ExternalID: "SM1", From: "+393471234567",
			To: "+39055055", Body: "ciao \xff"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.GetContact(ctx, r.ContactID, store.Scope{})
		if err != nil || c.Body != "ciao \uFFFD" {
			t.Fatalf("stored body %q %v", c.Body, err)
		}
	})
}

// randomText is n bytes of letters no compression makes small (PostgreSQL compresses long
// index keys before it measures them).
func randomText(n int) string {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = 'a' + byte(x%26)
	}
	return string(b)
}
