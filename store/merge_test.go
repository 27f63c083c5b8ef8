package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// mergePair stores two citizens of one person, live and with a contact each: one by SMS from
// erPhone, one by email from erEmail (raceMail). The merges below fold the second into the first.
func mergePair(t *testing.T, s *store.Store, id string) (sms, mail channels.Receipt) {
	t.Helper()
	ctx := context.Background()
	sms, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.SMS, ExternalID: "SM" + id,
		From: erPhone, To: "+390552768000", Body: erText}})
	if err != nil {
		t.Fatal(err)
	}
	mail, err = s.Ingest(ctx, raceMail("<"+id+"@x>"))
	if err != nil {
		t.Fatal(err)
	}
	return sms, mail
}

// checkUntouched fails the test unless the citizen is live with its one contact, unerased,
// and its one address.
func checkUntouched(t *testing.T, s *store.Store, r channels.Receipt, address channels.Identity) {
	t.Helper()
	c, err := s.GetCitizen(context.Background(), r.CitizenID, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ErasedAt != nil || len(c.Contacts) != 1 || c.Contacts[0].ID != r.ContactID || c.Contacts[0].Body != erText ||
		len(c.Identities) != 1 || c.Identities[0] != address {
		t.Errorf("citizen %s after a refused merge: %+v", r.CitizenID, c)
	}
}

// noLiveIdentityOnErasedCitizen fails the test when an erased citizen owns an address: a
// merge must never hand one to it.
func noLiveIdentityOnErasedCitizen(t *testing.T, s *store.Store) {
	t.Helper()
	var n int
	if err := s.QueryRow(context.Background(), `SELECT COUNT(*) FROM identities i JOIN citizens ci ON ci.id = i.citizen_id
		WHERE ci.erased_at IS NOT NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		t.Errorf("%d identities belong to an erased citizen", n)
	}
}

var (
	smsIdentity  = channels.IdentityFor(channels.SMS, erPhone)
	mailIdentity = channels.IdentityFor(channels.Email, erEmail)
)

// A citizen erased (at a request, or by retention) takes part in no merge, on either side:
// nothing moves into it or out of it.
func TestMergeRefusesErasedCitizen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sms, mail := mergePair(t, s, "m-erased")
		if _, err := s.EraseCitizen(ctx, mail.CitizenID, store.Scope{}, "admin", "art. 17"); err != nil {
			t.Fatal(err)
		}
		if err := s.MergeCitizens(ctx, sms.CitizenID, mail.CitizenID, store.Scope{}); !errors.Is(err, store.ErrCitizenErased) {
			t.Errorf("merging an erased citizen into a live one: %v, want ErrCitizenErased", err)
		}
		if err := s.MergeCitizens(ctx, mail.CitizenID, sms.CitizenID, store.Scope{}); !errors.Is(err, store.ErrCitizenErased) {
			t.Errorf("merging a live citizen into an erased one: %v, want ErrCitizenErased", err)
		}
		checkUntouched(t, s, sms, smsIdentity)
		noLiveContactOnErasedCitizen(t, s)
		noLiveIdentityOnErasedCitizen(t, s)

		// Retention's erasure of a citizen left with erased contacts only.
		old := oldResolvedContact(t, s, "<m-retained@x>")
		if old.CitizenID == mail.CitizenID || old.CitizenID == sms.CitizenID {
			t.Fatalf("the old mail joined citizen %s", old.CitizenID)
		}
		if c, err := s.ApplyRetention(ctx, retentionDays); err != nil || c.Identities != 1 {
			t.Fatalf("retention: %+v %v", c, err)
		}
		if err := s.MergeCitizens(ctx, sms.CitizenID, old.CitizenID, store.Scope{}); !errors.Is(err, store.ErrCitizenErased) {
			t.Errorf("merging a citizen retention erased: %v, want ErrCitizenErased", err)
		}
		if err := s.MergeCitizens(ctx, old.CitizenID, sms.CitizenID, store.Scope{}); !errors.Is(err, store.ErrCitizenErased) {
			t.Errorf("merging into a citizen retention erased: %v, want ErrCitizenErased", err)
		}
		checkUntouched(t, s, sms, smsIdentity)
		noLiveContactOnErasedCitizen(t, s)
		noLiveIdentityOnErasedCitizen(t, s)
	})
}

// A citizen merged away takes part in no further merge; an unknown one is not found.
func TestMergeRefusesMergedAndUnknownCitizen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sms, mail := mergePair(t, s, "m-merged")
		if err := s.MergeCitizens(ctx, sms.CitizenID, mail.CitizenID, store.Scope{}); err != nil {
			t.Fatal(err)
		}
		third, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.Email,
			ExternalID: "<m-third@x>", From: "terzo@example.org", To: "urp@comune.fi.it", Body: erText}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.MergeCitizens(ctx, third.CitizenID, mail.CitizenID, store.Scope{}); !errors.Is(err, store.ErrCitizenMerged) {
			t.Errorf("merging a merged-away citizen: %v, want ErrCitizenMerged", err)
		}
		if err := s.MergeCitizens(ctx, mail.CitizenID, third.CitizenID, store.Scope{}); !errors.Is(err, store.ErrCitizenMerged) {
			t.Errorf("merging into a merged-away citizen: %v, want ErrCitizenMerged", err)
		}
		if err := s.MergeCitizens(ctx, sms.CitizenID, store.NewID(), store.Scope{}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("merging an unknown citizen: %v, want ErrNotFound", err)
		}
		checkUntouched(t, s, third, channels.IdentityFor(channels.Email, "terzo@example.org"))
		merged, err := s.GetCitizen(ctx, sms.CitizenID, store.Scope{})
		if err != nil || len(merged.Contacts) != 2 || len(merged.Identities) != 2 {
			t.Errorf("the merged citizen: %+v %v", merged, err)
		}
	})
}
