package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// heldContact stores an SMS from a citizen of its own and assigns it to username, as the
// desk's assignment does.
func heldContact(t *testing.T, s *store.Store, sid, from, username string) string {
	t.Helper()
	ctx := context.Background()
	r, err := s.Ingest(ctx, sms(sid, from, "ciao"))
	if err != nil {
		t.Fatal(err)
	}
	err = s.WriteAlone(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := s.AssignTx(ctx, tx, r.ContactID, username, false, time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return r.ContactID
}

// assertBackInQueue fails unless the contact is open and nobody's, as going offline leaves it.
func assertBackInQueue(t *testing.T, s *store.Store, contactID, who string) {
	t.Helper()
	h, err := s.ContactHead(context.Background(), contactID, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if h.Status != channels.StatusOpen || h.Assignee != nil {
		holder := "nobody"
		if h.Assignee != nil {
			holder = *h.Assignee
		}
		t.Fatalf("%s's contact after they left: %s, held by %s; want open and nobody's", who, h.Status, holder)
	}
}

// A disabled or deleted user is set offline, and what they held goes back to the queues as
// when they go offline themselves: a call assigned to them must not wait for them, nor be
// dialled to them.
func TestDisableAndDeleteUserReturnHeldContactsToTheQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, name := range []string{"anna", "bruno"} {
			if _, err := s.CreateUser(ctx, store.User{Username: name, Role: store.RoleOperator, PasswordHash: "x"}); err != nil {
				t.Fatal(err)
			}
		}
		annas := heldContact(t, s, "SMrq1", "+393471111111", "anna")
		brunos := heldContact(t, s, "SMrq2", "+393472222222", "bruno")

		if _, err := s.DisableUser(ctx, "anna"); err != nil {
			t.Fatal(err)
		}
		assertBackInQueue(t, s, annas, "disabled anna")
		if u, err := s.UserByUsername(ctx, "anna"); err != nil || u.Presence != "offline" {
			t.Fatalf("disabled anna: presence %q, %v; want offline", u.Presence, err)
		}

		if err := s.DeleteUser(ctx, "bruno"); err != nil {
			t.Fatal(err)
		}
		assertBackInQueue(t, s, brunos, "deleted bruno")
	})
}
