package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/store/storetest"
)

// Values that exist only in the erased citizen's data, searched for everywhere afterwards.
const (
	erPhone  = "+393479988776"
	erEmail  = "zebedeo.quintavalle@example.org"
	erName   = "Zebedeo Quintavalle"
	erText   = "abito in via Gorgonzolastraat 17"
	erFile   = "UNIQUEFILEBYTES-7f3a9c-documento-identita"
	shared   = "SHAREDFILEBYTES-b81e2d-modulo-comune"
	erReason = "richiesta art. 17 di Zebedeo Quintavalle"
)

// seedCitizen makes the citizen to erase (an SMS and an email with two attachments, one of them
// also sent by someone else) and a bystander.
func seedCitizen(t *testing.T, s *store.Store) (citizen, other string, contacts []string) {
	t.Helper()
	ctx := context.Background()
	a, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.SMS, ExternalID: "SMer1",
		From: erPhone, To: "+390552768000", Body: "Buongiorno, " + erText}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.Email, ExternalID: "<m1@example.org>",
		MessageID: "<m1@example.org>", From: erEmail, FromName: erName, To: "urp@comune.fi.it", Subject: "Documento di " + erName, Body: erText,
		Attachments: []channels.Attachment{
			{Filename: "id.txt", ContentType: "text/plain", Data: []byte(erFile)},
			{Filename: "modulo.txt", ContentType: "text/plain", Data: []byte(shared)},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MergeCitizens(ctx, a.CitizenID, b.CitizenID, store.Scope{}); err != nil {
		t.Fatal(err)
	}
	o, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.Email, ExternalID: "<o1@example.org>",
		MessageID: "<o1@example.org>", From: "altro@example.org", To: "urp@comune.fi.it", Subject: "Modulo", Body: "allego il modulo",
		Attachments: []channels.Attachment{{Filename: "modulo.txt", ContentType: "text/plain", Data: []byte(shared)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Audit(ctx, store.AuditEntry{Actor: "anna", Action: store.AuditReply, ContactID: &a.ContactID, Target: erPhone, Detail: "sms"}); err != nil {
		t.Fatal(err)
	}
	return a.CitizenID, o.CitizenID, []string{a.ContactID, b.ContactID}
}

func TestEraseCitizen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		as := alertstore.New(s)
		citizen, other, contacts := seedCitizen(t, s)
		if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			return alertstore.SubscribeByCitizen(ctx, tx, "firenze", erPhone, nil, "it", alertstore.ConsentActor{Via: alertstore.ViaSMS, Actor: erPhone})
		}); err != nil {
			t.Fatal(err)
		}
		// A scoped admin of another comune does not see the citizen at all.
		if _, err := s.EraseCitizen(ctx, citizen, store.Scope{Comuni: []string{"empoli"}}, "x", "r"); err != store.ErrNotFound {
			t.Fatalf("out-of-scope erasure: %v, want ErrNotFound", err)
		}
		counts, err := s.EraseCitizen(ctx, citizen, store.Scope{}, "admin", erReason)
		if err != nil {
			t.Fatal(err)
		}
		if counts.Contacts != 2 || counts.Messages != 2 || counts.Attachments != 2 || counts.Blobs != 1 || counts.Identities != 2 ||
			counts.Subscriptions != 1 || counts.AuditEntries != 1 || !counts.FilesScrubbed {
			t.Fatalf("counts = %+v", counts)
		}
		c, err := s.GetCitizen(ctx, citizen, store.Scope{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "" || len(c.Identities) != 0 || len(c.Contacts) != 2 {
			t.Fatalf("citizen after erasure: %+v", c)
		}
		for _, id := range contacts {
			ct, err := s.GetContact(ctx, id, store.Scope{})
			if err != nil {
				t.Fatal(err)
			}
			// What reports count stays.
			if ct.Comune == nil || *ct.Comune != "firenze" || ct.Channel == "" || ct.ReceivedAt.IsZero() {
				t.Fatalf("contact lost its report fields: %+v", ct)
			}
			if ct.Body != store.Erased || ct.From != store.Erased || ct.FromName != "" || len(ct.Attachments) != 0 {
				t.Fatalf("contact not erased: %+v", ct)
			}
			for _, m := range ct.Messages {
				if m.Body != store.Erased || m.From != store.Erased || len(m.Attachments) != 0 {
					t.Fatalf("message not erased: %+v", m)
				}
			}
		}
		for _, q := range []string{"Gorgonzolastraat", "zebedeo", erPhone} {
			if list, _, err := s.ListContacts(ctx, store.ContactFilter{Q: q}); err != nil || len(list) != 0 {
				t.Fatalf("search %q finds %d contacts (%v)", q, len(list), err)
			}
		}
		// The bystander keeps the shared file.
		oc, err := s.GetCitizen(ctx, other, store.Scope{})
		if err != nil || len(oc.Contacts) != 1 || len(oc.Contacts[0].Attachments) != 1 {
			t.Fatalf("bystander: %+v %v", oc, err)
		}
		if data, err := s.Blob(ctx, oc.Contacts[0].Attachments[0].SHA256); err != nil || string(data) != shared {
			t.Fatalf("shared blob: %q %v", data, err)
		}
		// The audit log: who and why, without the name in the reason or the number in older entries.
		log, _, err := s.AuditLog(ctx, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var erased bool
		for _, e := range log {
			if strings.Contains(e.Target+e.Detail, erPhone) || strings.Contains(e.Target+e.Detail, "Zebedeo") {
				t.Fatalf("audit entry keeps an erased value: %+v", e)
			}
			if e.Action == store.AuditErase && e.Actor == "admin" && e.CitizenID != nil && *e.CitizenID == citizen {
				erased = e.Detail == "richiesta art. 17 di "+store.Erased
			}
		}
		if !erased {
			t.Fatalf("no erase entry with the scrubbed reason: %+v", log)
		}
		// The subscription ended, and neither an import nor the comune's API brings it back.
		if subs, err := as.SubscriptionsOf(ctx, erPhone); err != nil || len(subs) != 0 {
			t.Fatalf("subscriptions after erasure: %+v %v", subs, err)
		}
		if out, err := as.IsOptedOut(ctx, erPhone); err != nil || !out {
			t.Fatalf("IsOptedOut = %v %v, want true", out, err)
		}
		res, err := as.ImportSubscribers(ctx, "firenze", []alertstore.ImportRow{{Phone: erPhone}, {Phone: "+393470000001"}}, nil,
			alertstore.ConsentActor{Via: alertstore.ViaImport, Actor: "file.csv"})
		if err != nil || res.Imported != 1 || res.OptedOut != 1 {
			t.Fatalf("import after erasure: %+v %v", res, err)
		}
		sb, ask, err := as.RequestSubscription(ctx, "firenze", erPhone, nil, "it", alertstore.ConsentActor{Via: alertstore.ViaAPI, Actor: "key"}, nil)
		if err != nil || ask || sb.Status != alertstore.SubscriberPending {
			t.Fatalf("API request after erasure: %+v ask=%v %v", sb, ask, err)
		}
		// The request's own row names the number again (the comune sent it): that is new data,
		// not the erased. Remove it to search the files for what the erasure had.
		if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			for _, q := range []string{"DELETE FROM subscribers WHERE phone = ?", "DELETE FROM subscriber_consents WHERE phone = ?"} {
				if _, err := tx.Exec(ctx, q, erPhone); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if s.Dialect() == store.SQLite {
			if _, err := s.EraseCitizen(ctx, other, store.Scope{}, "admin", "bystander too, to checkpoint again"); err != nil {
				t.Fatal(err)
			}
			assertFilesClean(t, s)
		}
	})
}

// assertFilesClean reads the SQLite database and its WAL as bytes and looks for every erased value.
func assertFilesClean(t *testing.T, s *store.Store) {
	t.Helper()
	dir := store.DataPath(s)
	var files int
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(filepath.Clean(dir + suffix))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		files++
		for _, v := range []string{erPhone, erEmail, erName, erText, erFile, "Gorgonzolastraat", "Zebedeo"} {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s still holds %q", filepath.Base(dir+suffix), v)
			}
		}
	}
	if files == 0 {
		t.Fatal("no database file read")
	}
}

func TestRetentionErasesOldResolvedContacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		old := time.Now().Add(-40 * 24 * time.Hour)
		a, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.SMS, ExternalID: "SMold",
			From: erPhone, To: "+390552768000", Body: erText, ReceivedAt: old,
			Attachments: []channels.Attachment{{Filename: "f.txt", ContentType: "text/plain", Data: []byte(erFile)}}}})
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.SMS, ExternalID: "SMnew",
			From: "+393470000002", To: "+390552768000", Body: "recente"}})
		if err != nil {
			t.Fatal(err)
		}
		openOld, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.SMS, ExternalID: "SMopen",
			From: "+393470000003", To: "+390552768000", Body: "ancora aperto", ReceivedAt: old}})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{a.ContactID, fresh.ContactID} {
			if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				_, err := s.ResolveTx(ctx, tx, id, store.Resolution{Outcome: channels.OutcomeFirstLevel})
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Audit(ctx, store.AuditEntry{At: old, Actor: "anna", Action: store.AuditReply, ContactID: &fresh.ContactID, Target: "x"}); err != nil {
			t.Fatal(err)
		}
		// Off by default: nothing happens.
		if c, err := s.ApplyRetention(ctx, store.Retention{}); err != nil || c != (store.ErasureCounts{}) {
			t.Fatalf("retention off: %+v %v", c, err)
		}
		c, err := s.ApplyRetention(ctx, store.Retention{Contacts: 30, Audit: 30})
		if err != nil {
			t.Fatal(err)
		}
		if c.Contacts != 1 || c.Attachments != 1 || c.Blobs != 1 || c.Identities != 1 || c.AuditEntries != 1 || !c.FilesScrubbed {
			t.Fatalf("counts = %+v", c)
		}
		got, err := s.GetContact(ctx, a.ContactID, store.Scope{})
		if err != nil || got.Body != store.Erased || got.From != store.Erased || got.Comune == nil || *got.Comune != "firenze" {
			t.Fatalf("old contact: %+v %v", got, err)
		}
		for _, id := range []string{fresh.ContactID, openOld.ContactID} {
			got, err := s.GetContact(ctx, id, store.Scope{})
			if err != nil || got.Body == store.Erased {
				t.Fatalf("contact %s erased though recent or open: %+v %v", id, got, err)
			}
		}
		if _, err := s.CitizenByIdentity(ctx, channels.IdentityFor(channels.SMS, erPhone)); err != store.ErrNotFound {
			t.Fatalf("identity of a citizen with only erased contacts: %v", err)
		}
		// A second run finds nothing more to do.
		if c, err := s.ApplyRetention(ctx, store.Retention{Contacts: 30, Audit: 30}); err != nil || c.Contacts != 0 || c.Identities != 0 {
			t.Fatalf("second run: %+v %v", c, err)
		}
	})
}

// TestEraseCitizenScope: a scoped admin erases only a citizen whose every contact is in their
// comuni; otherwise nothing changes.
func TestEraseCitizenScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.SMS, ExternalID: "SMs1",
			From: erPhone, To: "+39055055", Body: "a Firenze"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Ingest(ctx, store.IngestRequest{Comune: "empoli", In: channels.InboundMessage{Channel: channels.Phone, ExternalID: "CAs2",
			From: erPhone, To: "+39055055"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EraseCitizen(ctx, a.CitizenID, store.Scope{Comuni: []string{"firenze"}}, "admin-fi", "r"); err != store.ErrOutOfScope {
			t.Fatalf("erasure by an admin of one comune: %v, want ErrOutOfScope", err)
		}
		if c, err := s.GetCitizen(ctx, a.CitizenID, store.Scope{}); err != nil || len(c.Identities) != 1 || c.ErasedAt != nil {
			t.Fatalf("refused erasure changed the citizen: %+v %v", c, err)
		}
		counts, err := s.EraseCitizen(ctx, a.CitizenID, store.Scope{Comuni: []string{"firenze", "empoli"}}, "admin-both", "r")
		if err != nil || counts.Contacts != 2 {
			t.Fatalf("erasure by an admin of both comuni: %+v %v", counts, err)
		}
		if c, err := s.GetCitizen(ctx, a.CitizenID, store.Scope{}); err != nil || len(c.Identities) != 0 || c.ErasedAt == nil {
			t.Fatalf("citizen after erasure: %+v %v", c, err)
		}
	})
}
