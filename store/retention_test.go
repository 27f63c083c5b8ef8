package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

func resolveContact(t *testing.T, s *store.Store, id string) {
	t.Helper()
	if err := s.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		_, err := s.ResolveTx(ctx, tx, id, store.Resolution{Outcome: channels.OutcomeFirstLevel})
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// Retention erases a citizen "as at an erasure request", which takes the address out of the
// automatic-answer log, even when the last automatic answer was recent. Rows too old to limit
// anything go too; a living citizen's recent row stays.
func TestRetentionForgetsAutoReplyAddresses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		old := time.Now().Add(-40 * 24 * time.Hour)
		const (
			erasedUpper = "Zebedeo.Quintavalle@Example.org" // the identity keeps the sender's case, the log lower case
			living      = "altro@example.org"
			stale       = "vecchio@example.org"
		)
		a, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.Email, ExternalID: "<ar1@x>",
			From: erasedUpper, To: "urp@comune.fi.it", Body: "di notte", ReceivedAt: old}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.Email, ExternalID: "<ar2@x>",
			From: living, To: "urp@comune.fi.it", Body: "oggi"}}); err != nil {
			t.Fatal(err)
		}
		resolveContact(t, s, a.ContactID)
		if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			for _, addr := range []string{erasedUpper, living, stale} {
				if _, err := s.ClaimAutoReplyRecipientTx(ctx, tx, channels.Email, addr); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, "UPDATE auto_reply_recipients SET last_sent_at = ? WHERE address = ?", store.Micros(old), stale)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		c, err := s.ApplyRetention(ctx, store.Retention{Contacts: 30})
		if err != nil || c.Contacts != 1 || c.Identities != 1 {
			t.Fatalf("retention: %+v %v", c, err)
		}
		rows, err := s.Query(ctx, "SELECT address FROM auto_reply_recipients ORDER BY address")
		left, err := store.Collect(rows, err, func(r interface{ Scan(...any) error }) (string, error) {
			var a string
			return a, r.Scan(&a)
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 1 || left[0] != living {
			t.Errorf("automatic-answer log after retention: %q, want only %q", left, living)
		}
	})
}

// A reply joining a contact retention already erased reopens it as new data: once resolved,
// the next run erases the reply too, and the contact's older texts stay erased meanwhile.
func TestRetentionErasesReplyToErasedContact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		old := time.Now().Add(-40 * 24 * time.Hour)
		mail := func(id, inReplyTo, subject, body string, at time.Time) store.IngestRequest {
			return store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.Email, ExternalID: id, MessageID: id,
				InReplyTo: inReplyTo, From: erEmail, To: "urp@comune.fi.it", Subject: subject, Body: body, ReceivedAt: at}}
		}
		a, err := s.Ingest(ctx, mail("<ret-old@x>", "", "vecchio", "vecchio testo", old))
		if err != nil {
			t.Fatal(err)
		}
		// A recent open contact keeps the citizen, and so their identity, alive.
		if _, err := s.Ingest(ctx, mail("<ret-other@x>", "", "altro", "altra pratica", time.Time{})); err != nil {
			t.Fatal(err)
		}
		resolveContact(t, s, a.ContactID)
		if c, err := s.ApplyRetention(ctx, store.Retention{Contacts: 30}); err != nil || c.Contacts != 1 {
			t.Fatalf("first run: %+v %v", c, err)
		}
		r, err := s.Ingest(ctx, mail("<ret-reply@x>", "<ret-old@x>", "Re: vecchio", erText, time.Time{}))
		if err != nil {
			t.Fatal(err)
		}
		if r.ContactID != a.ContactID {
			t.Fatalf("the citizen's reply opened contact %s instead of joining %s", r.ContactID, a.ContactID)
		}
		reopened, err := s.GetContact(ctx, a.ContactID, store.Scope{})
		if err != nil {
			t.Fatal(err)
		}
		if reopened.Status != channels.StatusOpen || reopened.Subject != store.Erased || reopened.Body != store.Erased || reopened.From != store.Erased {
			t.Fatalf("reopened contact brought erased data back or stayed resolved: %+v", reopened)
		}
		for _, m := range reopened.Messages {
			if m.ID != r.MessageID && (m.Body != store.Erased || m.From != store.Erased) {
				t.Fatalf("older message of the reopened contact not erased: %+v", m)
			}
		}
		resolveContact(t, s, a.ContactID)
		if c, err := s.ApplyRetention(ctx, store.Retention{Contacts: 30}); err != nil || c.Contacts != 1 {
			t.Fatalf("second run: %+v %v", c, err)
		}
		after, err := s.GetContact(ctx, a.ContactID, store.Scope{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range after.Messages {
			if strings.Contains(m.Body+m.Subject+m.From, "Gorgonzolastraat") || strings.Contains(m.From, erEmail) {
				t.Errorf("message kept after the second run: %+v", m)
			}
		}
		if c, err := s.ApplyRetention(ctx, store.Retention{Contacts: 30}); err != nil || c.Contacts != 0 {
			t.Fatalf("third run found more to erase: %+v %v", c, err)
		}
	})
}
