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

// Retention and an incoming message from the same citizen race as an erasure and a message do
// (erasure_race_test.go): on PostgreSQL, with two replicas. SQLite's single writer runs each
// retention transaction and each message one after the other, so there the message in flight
// simply comes first; its tests below check that outcome.

// retentionDays erases what is older than 30 days; oldMail is 40 days old.
var retentionDays = store.Retention{Contacts: 30}

func oldMail(id string) store.IngestRequest {
	req := raceMail(id)
	req.In.ReceivedAt = time.Now().Add(-40 * 24 * time.Hour)
	return req
}

func replyMail(id, inReplyTo string) store.IngestRequest {
	req := raceMail(id)
	req.In.InReplyTo = inReplyTo
	return req
}

// oldResolvedContact stores a 40-day-old message of the citizen and resolves its contact: the
// next retention run erases it, and then the citizen.
func oldResolvedContact(t *testing.T, s *store.Store, id string) channels.Receipt {
	t.Helper()
	a, err := s.Ingest(context.Background(), oldMail(id))
	if err != nil {
		t.Fatal(err)
	}
	resolveContact(t, s, a.ContactID)
	return a
}

// ingestPaused starts storing req on s and returns once its contact and message are written
// and not committed; the returned function lets it commit and waits for it.
func ingestPaused(t *testing.T, s *store.Store, req store.IngestRequest) (finish func() channels.Receipt) {
	t.Helper()
	written, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	var rec channels.Receipt
	go func() {
		req.After = func(context.Context, *store.Tx, channels.Receipt) error {
			close(written)
			<-release
			return nil
		}
		var err error
		rec, err = s.Ingest(context.Background(), req)
		done <- err
	}()
	select {
	case <-written:
	case err := <-done:
		t.Fatalf("ingest ended before writing: %v", err)
	}
	return func() channels.Receipt {
		t.Helper()
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return rec
	}
}

// retentionRunning starts a retention run on s; the returned function waits for its end.
func retentionRunning(s *store.Store) (wait func(t *testing.T) store.ErasureCounts) {
	done := make(chan error, 1)
	var counts store.ErasureCounts
	go func() {
		var err error
		counts, err = s.ApplyRetention(context.Background(), retentionDays)
		done <- err
	}()
	return func(t *testing.T) store.ErasureCounts {
		t.Helper()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return counts
	}
}

// noLiveContactOnErasedCitizen fails the test when a contact not erased belongs to an erased
// citizen: the state this file's races must never leave.
func noLiveContactOnErasedCitizen(t *testing.T, s *store.Store) {
	t.Helper()
	var n int
	if err := s.QueryRow(context.Background(), `SELECT COUNT(*) FROM contacts c JOIN citizens ci ON ci.id = c.citizen_id
		WHERE c.erased_at IS NULL AND ci.erased_at IS NOT NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		t.Errorf("%d live contacts belong to an erased citizen", n)
	}
}

// checkMessageKeptCitizen checks the outcome where the message won: the citizen was not erased
// and keeps its address, and the message's contact is live with its text, the old one erased.
func checkMessageKeptCitizen(t *testing.T, s *store.Store, old, rec channels.Receipt) {
	t.Helper()
	ctx := context.Background()
	noLiveContactOnErasedCitizen(t, s)
	if rec.CitizenID != old.CitizenID {
		t.Fatalf("the message went to citizen %s, not to %s", rec.CitizenID, old.CitizenID)
	}
	c, err := s.GetCitizen(ctx, old.CitizenID, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ErasedAt != nil || c.Name != erName || len(c.Contacts) != 2 {
		t.Fatalf("citizen after retention and the message in flight: %+v", c)
	}
	for _, ct := range c.Contacts {
		want := store.Erased
		if ct.ID == rec.ContactID {
			want = erText
		}
		if ct.Body != want {
			t.Errorf("contact %s: body %q, want %q", ct.ID, ct.Body, want)
		}
	}
	owner, err := s.CitizenByIdentity(ctx, channels.IdentityFor(channels.Email, erEmail))
	if err != nil || owner != old.CitizenID {
		t.Errorf("the address belongs to %q (%v), want %s", owner, err, old.CitizenID)
	}
}

// A message whose ingest wrote the citizen's row before retention's citizen stage reached it
// keeps the citizen: retention waits for it and then finds a live contact.
func TestRetentionWaitsForMessageInFlight(t *testing.T) {
	s1, s2 := twoReplicas(t)
	old := oldResolvedContact(t, s1, "<ret-flight1@x>")
	finish := ingestPaused(t, s1, raceMail("<ret-flight2@x>"))
	wait := retentionRunning(s2)
	waitForSessionsOnLocks(t, s1.DB(), 1)
	rec := finish()
	counts := wait(t)
	if counts.Contacts != 1 || counts.Identities != 0 {
		t.Errorf("retention counts %+v, want the old contact only", counts)
	}
	checkMessageKeptCitizen(t, s1, old, rec)
}

// A message that reads the citizen's identity while retention's citizen stage holds the
// citizen waits for it and starts a new citizen: the erased one gets no live contact.
func TestRetentionThenRacingMessageStartsNewCitizen(t *testing.T) {
	s1, s2 := twoReplicas(t)
	ctx := context.Background()
	old := oldResolvedContact(t, s1, "<ret-race1@x>")
	// Hold the citizen's row so both writers queue on it, retention first.
	hold, err := s1.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hold.Rollback() }()
	if _, err := hold.ExecContext(ctx, "SELECT 1 FROM citizens WHERE id = $1 FOR UPDATE", old.CitizenID); err != nil {
		t.Fatal(err)
	}
	wait := retentionRunning(s1)
	waitForSessionsOnLocks(t, s1.DB(), 1)
	ingestDone := make(chan error, 1)
	var rec channels.Receipt
	go func() {
		var err error
		rec, err = s2.Ingest(ctx, raceMail("<ret-race2@x>"))
		ingestDone <- err
	}()
	waitForSessionsOnLocks(t, s1.DB(), 2)
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	counts := wait(t)
	if err := <-ingestDone; err != nil {
		t.Fatal(err)
	}
	if counts.Contacts != 1 || counts.Identities != 1 {
		t.Errorf("retention counts %+v, want the old contact and the citizen's address", counts)
	}
	checkMessageStartedNewCitizen(t, s1, old, rec)
}

// checkMessageStartedNewCitizen checks the outcome where retention won: the old citizen is
// erased with its one contact, and the message started a new citizen that owns the address.
func checkMessageStartedNewCitizen(t *testing.T, s *store.Store, old, rec channels.Receipt) {
	t.Helper()
	ctx := context.Background()
	noLiveContactOnErasedCitizen(t, s)
	erased, err := s.GetCitizen(ctx, old.CitizenID, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if erased.ErasedAt == nil || erased.Name != "" || len(erased.Contacts) != 1 || erased.Contacts[0].Body != store.Erased {
		t.Errorf("erased citizen after the message: %+v", erased)
	}
	if rec.CitizenID == old.CitizenID || !rec.New {
		t.Fatalf("the message joined the erased citizen: %+v", rec)
	}
	owner, err := s.CitizenByIdentity(ctx, channels.IdentityFor(channels.Email, erEmail))
	if err != nil || owner != rec.CitizenID {
		t.Fatalf("the address belongs to %q (%v), want the message's citizen %s", owner, err, rec.CitizenID)
	}
	fresh, err := s.GetCitizen(ctx, owner, store.Scope{})
	if err != nil || fresh.Name != erName || fresh.ErasedAt != nil || len(fresh.Contacts) != 1 {
		t.Errorf("the message's citizen: %+v %v", fresh, err)
	}
}

// contactErasedAt reads whether retention counts the contact as erased (its erased_at), and
// its status.
func contactErasedAt(t *testing.T, s *store.Store, id string) (erased bool, status string) {
	t.Helper()
	if err := s.QueryRow(context.Background(), "SELECT erased_at IS NOT NULL, status FROM contacts WHERE id = ?", id).Scan(&erased, &status); err != nil {
		t.Fatal(err)
	}
	return erased, status
}

// checkReplyErasedOnceResolved resolves the reopened contact and runs retention again: the
// reply, and with it the citizen, are then erased, and a further run finds nothing.
func checkReplyErasedOnceResolved(t *testing.T, s *store.Store, old channels.Receipt) {
	t.Helper()
	ctx := context.Background()
	resolveContact(t, s, old.ContactID)
	if c, err := s.ApplyRetention(ctx, retentionDays); err != nil || c.Contacts != 1 || c.Identities != 1 {
		t.Fatalf("run after the reopened contact was resolved: %+v %v", c, err)
	}
	after, err := s.GetContact(ctx, old.ContactID, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range after.Messages {
		if strings.Contains(m.Body+m.Subject+m.From, "Gorgonzolastraat") || strings.Contains(m.From, erEmail) {
			t.Errorf("message of the reopened contact kept: %+v", m)
		}
	}
	if c, err := s.ApplyRetention(ctx, retentionDays); err != nil || c.Contacts != 0 || c.Identities != 0 {
		t.Errorf("a further run found more to erase: %+v %v", c, err)
	}
	noLiveContactOnErasedCitizen(t, s)
}

// A reply that reopened an old contact before retention reached it keeps the contact open and
// unerased: retention leaves it, and erases it with the reply once it is resolved again.
func TestRetentionLeavesContactReopenedInFlight(t *testing.T) {
	s1, s2 := twoReplicas(t)
	old := oldResolvedContact(t, s1, "<ret-reopen1@x>")
	finish := ingestPaused(t, s1, replyMail("<ret-reopen2@x>", "<ret-reopen1@x>"))
	wait := retentionRunning(s2)
	waitForSessionsOnLocks(t, s1.DB(), 1)
	rec := finish()
	counts := wait(t)
	if rec.ContactID != old.ContactID {
		t.Fatalf("the reply opened contact %s instead of joining %s", rec.ContactID, old.ContactID)
	}
	if counts.Contacts != 0 || counts.Identities != 0 {
		t.Errorf("retention counts %+v, want nothing erased", counts)
	}
	if erased, status := contactErasedAt(t, s1, old.ContactID); erased || status != string(channels.StatusOpen) {
		t.Fatalf("reopened contact: erased %v, status %s; want open, not erased", erased, status)
	}
	noLiveContactOnErasedCitizen(t, s1)
	checkReplyErasedOnceResolved(t, s1, old)
}

// A reply joining a contact retention holds waits for retention, then reopens the erased
// contact as new data (as a reply after the run would) and keeps the citizen.
func TestRetentionThenRacingReplyReopensErasedContact(t *testing.T) {
	s1, s2 := twoReplicas(t)
	ctx := context.Background()
	old := oldResolvedContact(t, s1, "<ret-rereply1@x>")
	hold, err := s1.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hold.Rollback() }()
	if _, err := hold.ExecContext(ctx, "SELECT 1 FROM contacts WHERE id = $1 FOR UPDATE", old.ContactID); err != nil {
		t.Fatal(err)
	}
	wait := retentionRunning(s1)
	waitForSessionsOnLocks(t, s1.DB(), 1)
	ingestDone := make(chan error, 1)
	var rec channels.Receipt
	go func() {
		var err error
		rec, err = s2.Ingest(ctx, replyMail("<ret-rereply2@x>", "<ret-rereply1@x>"))
		ingestDone <- err
	}()
	waitForSessionsOnLocks(t, s1.DB(), 2)
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	counts := wait(t)
	if err := <-ingestDone; err != nil {
		t.Fatal(err)
	}
	if rec.ContactID != old.ContactID {
		t.Fatalf("the reply opened contact %s instead of joining %s", rec.ContactID, old.ContactID)
	}
	if counts.Contacts != 1 || counts.Identities != 0 {
		t.Errorf("retention counts %+v, want the contact and not the citizen", counts)
	}
	if erased, status := contactErasedAt(t, s1, old.ContactID); erased || status != string(channels.StatusOpen) {
		t.Fatalf("contact after the reply: erased %v, status %s; want reopened", erased, status)
	}
	reopened, err := s1.GetContact(ctx, old.ContactID, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if reopened.Body != store.Erased || reopened.From != store.Erased {
		t.Errorf("reopened contact brought erased data back: %+v", reopened)
	}
	noLiveContactOnErasedCitizen(t, s1)
	checkReplyErasedOnceResolved(t, s1, old)
}

// On SQLite a message being stored holds the only writer: retention runs after it, and the
// message wins. (pause lets retention queue behind the writer first; whether it did or not,
// the outcome is the same, which is the point.)
func TestRetentionWaitsForMessageInFlightSQLite(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	old := oldResolvedContact(t, s, "<ret-sq-flight1@x>")
	finish := ingestPaused(t, s, raceMail("<ret-sq-flight2@x>"))
	wait := retentionRunning(s)
	time.Sleep(50 * time.Millisecond)
	rec := finish()
	counts := wait(t)
	if counts.Contacts != 1 || counts.Identities != 0 {
		t.Errorf("retention counts %+v, want the old contact only", counts)
	}
	checkMessageKeptCitizen(t, s, old, rec)
}

func TestRetentionLeavesContactReopenedInFlightSQLite(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	old := oldResolvedContact(t, s, "<ret-sq-reopen1@x>")
	finish := ingestPaused(t, s, replyMail("<ret-sq-reopen2@x>", "<ret-sq-reopen1@x>"))
	wait := retentionRunning(s)
	time.Sleep(50 * time.Millisecond)
	rec := finish()
	counts := wait(t)
	if rec.ContactID != old.ContactID || counts.Contacts != 0 || counts.Identities != 0 {
		t.Fatalf("reply %+v, retention counts %+v: want the reply in the old contact, nothing erased", rec, counts)
	}
	if erased, status := contactErasedAt(t, s, old.ContactID); erased || status != string(channels.StatusOpen) {
		t.Fatalf("reopened contact: erased %v, status %s; want open, not erased", erased, status)
	}
	checkReplyErasedOnceResolved(t, s, old)
}

// A message after retention erased its sender starts a new citizen, on both databases: the
// outcome the racing message gets when retention wins.
func TestRetentionThenMessageStartsNewCitizen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		old := oldResolvedContact(t, s, "<ret-after1@x>")
		if c, err := s.ApplyRetention(context.Background(), retentionDays); err != nil || c.Contacts != 1 || c.Identities != 1 {
			t.Fatalf("retention: %+v %v", c, err)
		}
		rec, err := s.Ingest(context.Background(), raceMail("<ret-after2@x>"))
		if err != nil {
			t.Fatal(err)
		}
		checkMessageStartedNewCitizen(t, s, old, rec)
	})
}
