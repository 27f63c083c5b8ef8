package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// A fiscal code given to a citizen: stored with its audit entry, shown on the citizen, refused
// for a second citizen; an App IO reply accepted by App IO is listed for the status poll until
// it is delivered, and its thread shows the delivery.
func TestFiscalCodeIdentityAndAppIOReplies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		r1, err := s.Ingest(ctx, sms("SM1", "+393471234567", "ciao"))
		if err != nil {
			t.Fatal(err)
		}
		r2, err := s.Ingest(ctx, sms("SM2", "+393479999999", "salve"))
		if err != nil {
			t.Fatal(err)
		}
		cf := channels.Identity{Kind: channels.IdentityFiscalCode, Value: "RSSMRA85T10A562S"}
		audit := func(citizen string) store.AuditEntry {
			return store.AuditEntry{Actor: "anna", Action: store.AuditIdentity, CitizenID: &citizen, Target: cf.Value}
		}
		if added, err := s.AddIdentity(ctx, r1.CitizenID, cf, audit(r1.CitizenID)); err != nil || !added {
			t.Fatalf("add: %v %v", added, err)
		}
		if added, err := s.AddIdentity(ctx, r1.CitizenID, cf, audit(r1.CitizenID)); err != nil || added {
			t.Fatalf("the same again: %v %v", added, err)
		}
		if _, err := s.AddIdentity(ctx, r2.CitizenID, cf, audit(r2.CitizenID)); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("another citizen's fiscal code: %v", err)
		}
		if _, err := s.AddIdentity(ctx, "nobody", channels.Identity{Kind: channels.IdentityFiscalCode, Value: "BNCLRA80A41F205G"}, audit("nobody")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an unknown citizen: %v", err)
		}
		c, err := s.GetCitizen(ctx, r1.CitizenID, store.Scope{})
		if err != nil || c.FiscalCode == nil || *c.FiscalCode != cf.Value {
			t.Fatalf("citizen: %+v %v", c, err)
		}
		if got, err := s.FiscalCodeOf(ctx, r1.CitizenID); err != nil || got != cf.Value {
			t.Fatalf("FiscalCodeOf: %q %v", got, err)
		}
		entries, _, err := s.AuditLog(ctx, store.AuditFilter{Action: store.AuditIdentity, Limit: 10})
		if err != nil || len(entries) != 1 || entries[0].Target != cf.Value {
			t.Fatalf("audit: %+v %v", entries, err)
		}
		m := channels.Message{ID: store.NewID(), ContactID: r1.ContactID, Direction: channels.Outbound, Channel: channels.AppIO,
			From: "firenze", To: cf.Value, Subject: "Risposta - Comune", Body: "testo", Status: store.OutQueued, CreatedAt: time.Now()}
		if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error { return s.InsertOutboundTx(ctx, tx, m) }); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkOutbound(ctx, m.ID, "01IO", store.OutSent, ""); err != nil {
			t.Fatal(err)
		}
		list, err := s.SentAppIOMessages(ctx, time.Now().Add(time.Second), 10)
		if err != nil || len(list) != 1 || list[0].Comune != "firenze" || list[0].FiscalCode != cf.Value || list[0].ExternalID != "01IO" {
			t.Fatalf("sent App IO: %+v %v", list, err)
		}
		if _, _, err := s.UpdateDeliveryStatus(ctx, channels.AppIO, "01IO", store.OutDelivered, ""); err != nil {
			t.Fatal(err)
		}
		if list, err := s.SentAppIOMessages(ctx, time.Now().Add(time.Hour), 10); err != nil || len(list) != 0 {
			t.Fatalf("a delivered message is still listed: %+v %v", list, err)
		}
		msgs, err := s.Messages(ctx, r1.ContactID)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range msgs {
			switch {
			case x.ID == m.ID && (x.Delivery == nil || *x.Delivery != "delivered"):
				t.Fatalf("the App IO reply's delivery: %v", x.Delivery)
			case x.Direction == channels.Inbound && x.Delivery != nil:
				t.Fatalf("an inbound message has a delivery: %v", *x.Delivery)
			}
		}
	})
}
