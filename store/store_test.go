package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

func sms(sid, from, body string) store.IngestRequest {
	return store.IngestRequest{In: channels.InboundMessage{Channel: channels.SMS, ExternalID: sid, From: from, To: "+39055055", Body: body}}
}

func TestIngestIsIdempotentByProviderID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		r1, err := s.Ingest(ctx, sms("SM1", "+393471234567", "ciao"))
		if err != nil || r1.Duplicate || !r1.New {
			t.Fatalf("first: %+v %v", r1, err)
		}
		r2, err := s.Ingest(ctx, sms("SM1", "+393471234567", "ciao"))
		if err != nil || !r2.Duplicate || r2.ContactID != r1.ContactID {
			t.Fatalf("second: %+v %v", r2, err)
		}
		if n, _ := s.CountMessages(ctx, ""); n != 1 {
			t.Fatalf("messages = %d, want 1", n)
		}
	})
}

func TestSameCitizenAcrossChannels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, _ := s.Ingest(ctx, sms("SM1", "+393471234567", "uno"))
		b, err := s.Ingest(ctx, store.IngestRequest{In: channels.InboundMessage{Channel: channels.Phone, ExternalID: "CA1", From: "+393471234567", To: "+39055055"}})
		if err != nil {
			t.Fatal(err)
		}
		if a.CitizenID != b.CitizenID || a.ContactID == b.ContactID {
			t.Fatalf("sms %+v, call %+v: want one citizen, two contacts", a, b)
		}
		c, err := s.GetCitizen(ctx, a.CitizenID, store.Scope{})
		if err != nil || len(c.Contacts) != 2 || c.Phone == nil || *c.Phone != "+393471234567" {
			t.Fatalf("citizen %+v %v", c, err)
		}
	})
}

func TestSMSJoinsOpenConversationAndReopens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, _ := s.Ingest(ctx, sms("SM1", "+393471234567", "buongiorno"))
		b, _ := s.Ingest(ctx, sms("SM2", "+393471234567", "volevo sapere"))
		if a.ContactID != b.ContactID || b.New {
			t.Fatalf("second SMS opened a new contact: %+v %+v", a, b)
		}
		c, err := s.GetContact(ctx, a.ContactID, store.Scope{})
		if err != nil || len(c.Messages) != 2 || c.Messages[0].Body != "buongiorno" {
			t.Fatalf("thread: %+v %v", c.Messages, err)
		}
	})
}

func TestEmailThreadsOnHeadersNotSubject(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		first := store.IngestRequest{In: channels.InboundMessage{Channel: channels.Email, ExternalID: "a@x", MessageID: "a@x",
			From: "mario@example.it", To: "urp@comune.fi.it", Subject: "Multa"}}
		r1, _ := s.Ingest(ctx, first)
		same := store.IngestRequest{In: channels.InboundMessage{Channel: channels.Email, ExternalID: "b@x", MessageID: "b@x",
			From: "mario@example.it", To: "urp@comune.fi.it", Subject: "Multa"}}
		r2, _ := s.Ingest(ctx, same)
		if r2.ContactID == r1.ContactID {
			t.Fatal("threaded on subject alone")
		}
		reply := store.IngestRequest{In: channels.InboundMessage{Channel: channels.Email, ExternalID: "c@x", MessageID: "c@x",
			InReplyTo: "a@x", References: []string{"a@x"}, From: "mario@example.it", To: "urp@comune.fi.it", Subject: "Re: Multa"}}
		r3, _ := s.Ingest(ctx, reply)
		if r3.ContactID != r1.ContactID {
			t.Fatal("reply did not join its thread")
		}
	})
}

func TestListContactsFiltersAndPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i := 0; i < 7; i++ {
			req := sms(fmt.Sprintf("SM%d", i), fmt.Sprintf("+3934712345%02d", i), fmt.Sprintf("messaggio %d ZTL", i))
			req.Comune = "firenze"
			if i%2 == 1 {
				req.Comune = "empoli"
			}
			if _, err := s.Ingest(ctx, req); err != nil {
				t.Fatal(err)
			}
		}
		var all []channels.Contact
		cursor := ""
		for {
			page, next, err := s.ListContacts(ctx, store.ContactFilter{Limit: 3, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			if next == "" {
				break
			}
			cursor = next
		}
		if len(all) != 7 || all[0].Body != "messaggio 6 ZTL" {
			t.Fatalf("paged %d contacts, first %q", len(all), all[0].Body)
		}
		fi, _, _ := s.ListContacts(ctx, store.ContactFilter{Comune: "firenze"})
		scoped, _, _ := s.ListContacts(ctx, store.ContactFilter{Scope: store.Scope{Comuni: []string{"empoli"}}})
		search, _, _ := s.ListContacts(ctx, store.ContactFilter{Q: "ztl"})
		if len(fi) != 4 || len(scoped) != 3 || len(search) != 7 {
			t.Fatalf("firenze %d, empoli scope %d, search %d", len(fi), len(scoped), len(search))
		}
		if _, _, err := s.ListContacts(ctx, store.ContactFilter{Cursor: "garbage!"}); !errors.Is(err, store.ErrBadCursor) {
			t.Fatalf("bad cursor: %v", err)
		}
		if _, err := s.GetContact(ctx, all[0].ID, store.Scope{Comuni: []string{"sesto-fiorentino"}}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("out of scope contact: %v", err)
		}
	})
}

func TestConcurrentWritesAreAllCommitted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for i := 0; i < 200; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				// Half of them repeat an id: the duplicates must fold, not fail.
				_, err := s.Ingest(ctx, sms(fmt.Sprintf("SM%d", i%100), fmt.Sprintf("+39347%07d", i%100), "x"))
				errs <- err
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n, _ := s.CountMessages(ctx, ""); n != 100 {
			t.Fatalf("messages = %d, want 100", n)
		}
	})
}

func TestFailingWriteDoesNotUndoItsBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var wg sync.WaitGroup
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				req := sms(fmt.Sprintf("SM%d", i), fmt.Sprintf("+39347%07d", i), "x")
				if i%5 == 0 {
					req.After = func(context.Context, *store.Tx, channels.Receipt) error { return errors.New("boom") }
				}
				if _, err := s.Ingest(ctx, req); (err != nil) != (i%5 == 0) {
					t.Errorf("message %d: %v", i, err)
				}
			}(i)
		}
		wg.Wait()
		if n, _ := s.CountMessages(ctx, ""); n != 40 {
			t.Fatalf("messages = %d, want 40 (10 failed writes rolled back alone)", n)
		}
	})
}

func TestAttachmentsRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		data := []byte{0, 1, 2, 3, 255}
		pages := 2
		r, err := s.Ingest(ctx, store.IngestRequest{In: channels.InboundMessage{Channel: channels.Fax, ExternalID: "f@x",
			From: "+390551234567", To: "urp@comune.fi.it", Attachments: []channels.Attachment{{Filename: "fax.tif", ContentType: "image/tiff", Data: data, Pages: &pages}}}})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := s.GetContact(ctx, r.ContactID, store.Scope{})
		if len(c.Attachments) != 1 || c.Attachments[0].Size != 5 || *c.Attachments[0].Pages != 2 {
			t.Fatalf("attachments %+v", c.Attachments)
		}
		a, got, err := s.Attachment(ctx, r.ContactID, c.Attachments[0].ID, store.Scope{})
		if err != nil || string(got) != string(data) || a.ContentType != "image/tiff" {
			t.Fatalf("attachment %+v %v %v", a, got, err)
		}
	})
}

func TestCallUpdatesAndMerge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		r, _ := s.Ingest(ctx, store.IngestRequest{In: channels.InboundMessage{Channel: channels.Phone, ExternalID: "CA1", From: "+393471234567", To: "+39055055",
			Call: &channels.Call{Status: "ringing"}}})
		d := 117
		if _, err := s.UpdateCall(ctx, channels.Phone, "CA1", store.CallUpdate{Status: "completed", Duration: &d}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateCall(ctx, channels.Phone, "CA-unknown", store.CallUpdate{Status: "completed"}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown call: %v", err)
		}
		c, _ := s.GetContact(ctx, r.ContactID, store.Scope{})
		if c.Call == nil || c.Call.Status != "completed" || c.Call.DurationSeconds != 117 {
			t.Fatalf("call %+v", c.Call)
		}
		e, _ := s.Ingest(ctx, store.IngestRequest{In: channels.InboundMessage{Channel: channels.Email, ExternalID: "m@x", From: "mario@example.it", To: "urp@comune.fi.it"}})
		if err := s.MergeCitizens(ctx, r.CitizenID, r.CitizenID, store.Scope{}); !errors.Is(err, store.ErrSelfMerge) {
			t.Fatalf("self merge: %v", err)
		}
		if err := s.MergeCitizens(ctx, r.CitizenID, e.CitizenID, store.Scope{}); err != nil {
			t.Fatal(err)
		}
		cit, err := s.GetCitizen(ctx, r.CitizenID, store.Scope{})
		if err != nil || len(cit.Identities) != 2 || len(cit.Contacts) != 2 || cit.Email == nil {
			t.Fatalf("merged citizen %+v %v", cit, err)
		}
		if _, err := s.GetCitizen(ctx, e.CitizenID, store.Scope{}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("merged-away citizen still visible: %v", err)
		}
		// A new contact from the merged identity lands on the surviving citizen.
		e2, _ := s.Ingest(ctx, store.IngestRequest{In: channels.InboundMessage{Channel: channels.Email, ExternalID: "n@x", From: "mario@example.it", To: "urp@comune.fi.it"}})
		if e2.CitizenID != r.CitizenID {
			t.Fatal("identity did not follow the merge")
		}
	})
}

func TestUsersAndTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u, err := s.CreateUser(ctx, store.User{Username: "anna", Role: store.RoleOperator, PasswordHash: "x", Comuni: []string{"firenze"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, store.User{Username: "anna", Role: store.RoleOperator}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate user: %v", err)
		}
		tok, err := s.CreateToken(ctx, u.ID, store.TokenAPI, 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.UserByToken(ctx, tok, store.TokenAPI)
		if err != nil || got.Username != "anna" || len(got.Comuni) != 1 {
			t.Fatalf("by token: %+v %v", got, err)
		}
		if _, err := s.UserByToken(ctx, tok+"x", store.TokenAPI); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("wrong token: %v", err)
		}
		if err := s.DeleteUser(ctx, "anna"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserByToken(ctx, tok, store.TokenAPI); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("token of deleted user: %v", err)
		}
	})
}

func TestMigrateTwiceIsANoop(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		ok, err := s.Migrated(context.Background())
		if !ok || err != nil {
			t.Fatalf("migrated = %v, %v", ok, err)
		}
	})
}
