package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// The erasure and an incoming message race only on PostgreSQL (two replicas, READ COMMITTED):
// SQLite's single writer runs one after the other.

func raceMail(id string) store.IngestRequest {
	return store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.Email, ExternalID: id, MessageID: id,
		From: erEmail, FromName: erName, To: "urp@comune.fi.it", Subject: "pratica", Body: erText}}
}

// twoReplicas opens two stores on one new PostgreSQL database.
func twoReplicas(t *testing.T) (*store.Store, *store.Store) {
	t.Helper()
	s1, url := storetest.OpenURL(t, store.Postgres)
	s2, err := store.Open(context.Background(), store.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	return s1, s2
}

// waitForSessionsOnLocks waits until n sessions of the database wait for a lock (calls_order_test.go,
// being written alongside, has the same helper as waitForLockWaiters: keep one when both settle).
func waitForSessionsOnLocks(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		if err := db.QueryRow("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions wait for a lock, want %d", waiting, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A message whose ingest read the citizen's identity before the erasure committed, and waits
// for it, starts a new citizen: the erased one gets neither its name back nor an unerased
// contact.
func TestEraseCitizenThenRacingMessageStartsNewCitizen(t *testing.T) {
	s1, s2 := twoReplicas(t)
	ctx := context.Background()
	a, err := s1.Ingest(ctx, raceMail("<race1@x>"))
	if err != nil {
		t.Fatal(err)
	}
	// Hold the citizen's row so both writers queue on it, the erasure first.
	hold, err := s1.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	if _, err := hold.ExecContext(ctx, "SELECT 1 FROM citizens WHERE id = $1 FOR UPDATE", a.CitizenID); err != nil {
		t.Fatal(err)
	}
	eraseDone := make(chan error, 1)
	go func() {
		_, err := s1.EraseCitizen(ctx, a.CitizenID, store.Scope{}, "admin", "art. 17")
		eraseDone <- err
	}()
	waitForSessionsOnLocks(t, s1.DB(), 1)
	ingestDone := make(chan error, 1)
	var rec channels.Receipt
	go func() {
		var err error
		rec, err = s2.Ingest(ctx, raceMail("<race2@x>"))
		ingestDone <- err
	}()
	waitForSessionsOnLocks(t, s1.DB(), 2)
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-eraseDone; err != nil {
		t.Fatal(err)
	}
	if err := <-ingestDone; err != nil {
		t.Fatal(err)
	}
	erased, err := s1.GetCitizen(ctx, a.CitizenID, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if erased.ErasedAt == nil || erased.Name != "" || len(erased.Contacts) != 1 || erased.Contacts[0].Body != store.Erased {
		t.Errorf("erased citizen after the racing message: %+v", erased)
	}
	if rec.CitizenID == a.CitizenID || !rec.New {
		t.Fatalf("the racing message joined the erased citizen: %+v", rec)
	}
	owner, err := s1.CitizenByIdentity(ctx, channels.IdentityFor(channels.Email, erEmail))
	if err != nil || owner != rec.CitizenID {
		t.Fatalf("the address belongs to %q (%v), want the racing message's citizen %s", owner, err, rec.CitizenID)
	}
	fresh, err := s1.GetCitizen(ctx, owner, store.Scope{})
	if err != nil || fresh.Name != erName || fresh.ErasedAt != nil || len(fresh.Contacts) != 1 {
		t.Errorf("the racing message's citizen: %+v %v", fresh, err)
	}
}

// A message that wrote the citizen's row before the erasure began is in the erasure: the
// erasure waits for it and erases its contact with the others.
func TestEraseCitizenWaitsForMessageInFlight(t *testing.T) {
	s1, s2 := twoReplicas(t)
	ctx := context.Background()
	a, err := s1.Ingest(ctx, raceMail("<flight1@x>"))
	if err != nil {
		t.Fatal(err)
	}
	inIngest, release := make(chan struct{}), make(chan struct{})
	ingestDone := make(chan error, 1)
	go func() {
		req := raceMail("<flight2@x>")
		req.After = func(context.Context, *store.Tx, channels.Receipt) error {
			close(inIngest)
			<-release // the contact is written, not committed
			return nil
		}
		_, err := s1.Ingest(ctx, req)
		ingestDone <- err
	}()
	<-inIngest
	eraseDone := make(chan error, 1)
	var counts store.ErasureCounts
	go func() {
		var err error
		counts, err = s2.EraseCitizen(ctx, a.CitizenID, store.Scope{}, "admin", "art. 17")
		eraseDone <- err
	}()
	waitForSessionsOnLocks(t, s1.DB(), 1)
	close(release)
	if err := <-ingestDone; err != nil {
		t.Fatal(err)
	}
	if err := <-eraseDone; err != nil {
		t.Fatal(err)
	}
	if counts.Contacts != 2 {
		t.Errorf("erasure counts %+v, want both contacts", counts)
	}
	c, err := s1.GetCitizen(ctx, a.CitizenID, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range c.Contacts {
		if ct.Body != store.Erased {
			t.Errorf("contact %s of the erased citizen kept its text: %q", ct.ID, ct.Body)
		}
	}
}
