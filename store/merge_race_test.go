package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
)

// A merge and an erasure (or retention) of one of its citizens race only on PostgreSQL (two
// replicas, READ COMMITTED): SQLite's single writer runs one after the other, and
// merge_test.go checks the outcome there. Each test holds one citizen's row so that both
// writers queue on it in a known order, then lets them go.

// holdCitizen locks a citizen's row in a transaction of the test's own; the returned function
// lets it go.
func holdCitizen(t *testing.T, s *store.Store, id string) (release func()) {
	t.Helper()
	ctx := context.Background()
	hold, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hold.Rollback() })
	if _, err := hold.ExecContext(ctx, "SELECT 1 FROM citizens WHERE id = $1 FOR UPDATE", id); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if err := hold.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
			t.Fatal(err)
		}
	}
}

// mergeRunning starts merging from into into on s; the returned function waits for its end.
func mergeRunning(s *store.Store, into, from string) (wait func() error) {
	done := make(chan error, 1)
	go func() { done <- s.MergeCitizens(context.Background(), into, from, store.Scope{}) }()
	return func() error { return <-done }
}

// eraseRunning starts erasing a citizen on s; the returned function waits for its end.
func eraseRunning(s *store.Store, id string) (wait func() (store.ErasureCounts, error)) {
	type result struct {
		counts store.ErasureCounts
		err    error
	}
	done := make(chan result, 1)
	go func() {
		c, err := s.EraseCitizen(context.Background(), id, store.Scope{}, "admin", "art. 17")
		done <- result{c, err}
	}()
	return func() (store.ErasureCounts, error) {
		r := <-done
		return r.counts, r.err
	}
}

// checkErasureWon checks the outcome where the erasure of `erased` came first: it is erased
// with its own contact only, and the merge changed nothing of the live citizen.
func checkErasureWon(t *testing.T, s *store.Store, counts store.ErasureCounts, mergeErr error, live channels.Receipt, address channels.Identity) {
	t.Helper()
	if !errors.Is(mergeErr, store.ErrCitizenErased) {
		t.Errorf("the merge after the erasure: %v, want ErrCitizenErased", mergeErr)
	}
	if counts.Contacts != 1 || counts.Identities != 1 {
		t.Errorf("erasure counts %+v, want the erased citizen's contact and address only", counts)
	}
	noLiveContactOnErasedCitizen(t, s)
	noLiveIdentityOnErasedCitizen(t, s)
	checkUntouched(t, s, live, address)
}

// checkMergeThenErasureOfInto checks the outcome where the merge came first and the erasure of
// the citizen merged into then erased the merged whole: both contacts and both addresses.
func checkMergeThenErasureOfInto(t *testing.T, s *store.Store, counts store.ErasureCounts, mergeErr error, sms, mail channels.Receipt) {
	t.Helper()
	if mergeErr != nil {
		t.Fatalf("the merge before the erasure: %v", mergeErr)
	}
	if counts.Contacts != 2 || counts.Identities != 2 {
		t.Errorf("erasure counts %+v, want both contacts and both addresses", counts)
	}
	noLiveContactOnErasedCitizen(t, s)
	noLiveIdentityOnErasedCitizen(t, s)
	ctx := context.Background()
	c, err := s.GetCitizen(ctx, sms.CitizenID, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ErasedAt == nil || len(c.Contacts) != 2 || len(c.Identities) != 0 {
		t.Errorf("the erased merged citizen: %+v", c)
	}
	for _, ct := range c.Contacts {
		if ct.Body != store.Erased {
			t.Errorf("contact %s kept its text: %q", ct.ID, ct.Body)
		}
	}
	for _, id := range []channels.Identity{smsIdentity, mailIdentity} {
		if owner, err := s.CitizenByIdentity(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the address %s still belongs to %q (%v)", id.Value, owner, err)
		}
	}
}

// The erasure of the citizen merged into holds it first: the merge waits, then is refused, and
// the other citizen keeps its contact and address.
func TestEraseThenRacingMergeIntoIsRefused(t *testing.T) {
	s1, s2 := twoReplicas(t)
	sms, mail := mergePair(t, s1, "mr-into")
	release := holdCitizen(t, s1, sms.CitizenID)
	erased := eraseRunning(s1, sms.CitizenID)
	waitForSessionsOnLocks(t, s1.DB(), 1)
	merged := mergeRunning(s2, sms.CitizenID, mail.CitizenID)
	waitForSessionsOnLocks(t, s1.DB(), 2)
	release()
	counts, err := erased()
	if err != nil {
		t.Fatal(err)
	}
	checkErasureWon(t, s1, counts, merged(), mail, mailIdentity)
}

// The erasure of the citizen merged away holds it first: the merge waits, then is refused, and
// the citizen it would have joined keeps only its own.
func TestEraseThenRacingMergeFromIsRefused(t *testing.T) {
	s1, s2 := twoReplicas(t)
	sms, mail := mergePair(t, s1, "mr-from")
	release := holdCitizen(t, s1, mail.CitizenID)
	erased := eraseRunning(s1, mail.CitizenID)
	waitForSessionsOnLocks(t, s1.DB(), 1)
	merged := mergeRunning(s2, sms.CitizenID, mail.CitizenID)
	waitForSessionsOnLocks(t, s1.DB(), 2)
	release()
	counts, err := erased()
	if err != nil {
		t.Fatal(err)
	}
	checkErasureWon(t, s1, counts, merged(), sms, smsIdentity)
}

// The merge holds the citizen merged into first: the erasure of that citizen waits, then
// erases the merged whole.
func TestMergeThenRacingEraseErasesMergedWhole(t *testing.T) {
	s1, s2 := twoReplicas(t)
	sms, mail := mergePair(t, s1, "mr-whole")
	release := holdCitizen(t, s1, sms.CitizenID)
	merged := mergeRunning(s1, sms.CitizenID, mail.CitizenID)
	waitForSessionsOnLocks(t, s1.DB(), 1)
	erased := eraseRunning(s2, sms.CitizenID)
	waitForSessionsOnLocks(t, s1.DB(), 2)
	release()
	mergeErr := merged()
	counts, err := erased()
	if err != nil {
		t.Fatal(err)
	}
	checkMergeThenErasureOfInto(t, s1, counts, mergeErr, sms, mail)
}

// The merge holds the citizen merged away first: the erasure of that citizen waits, then finds
// it merged (not found: the person's data is the other citizen's now, erased with it), and
// nothing is lost or half erased.
func TestMergeThenRacingEraseOfMergedAwayFindsNothing(t *testing.T) {
	s1, s2 := twoReplicas(t)
	sms, mail := mergePair(t, s1, "mr-away")
	release := holdCitizen(t, s1, mail.CitizenID)
	merged := mergeRunning(s1, sms.CitizenID, mail.CitizenID)
	waitForSessionsOnLocks(t, s1.DB(), 1)
	erased := eraseRunning(s2, mail.CitizenID)
	waitForSessionsOnLocks(t, s1.DB(), 2)
	release()
	if err := merged(); err != nil {
		t.Fatalf("the merge before the erasure: %v", err)
	}
	if _, err := erased(); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("erasing the merged-away citizen after the merge: %v, want ErrNotFound", err)
	}
	noLiveContactOnErasedCitizen(t, s1)
	noLiveIdentityOnErasedCitizen(t, s1)
	c, err := s1.GetCitizen(context.Background(), sms.CitizenID, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ErasedAt != nil || len(c.Contacts) != 2 || len(c.Identities) != 2 {
		t.Fatalf("the merged citizen: %+v", c)
	}
	for _, ct := range c.Contacts {
		if ct.Body != erText {
			t.Errorf("contact %s: body %q, want %q", ct.ID, ct.Body, erText)
		}
	}
	// And its erasure now takes both.
	counts, err := s1.EraseCitizen(context.Background(), sms.CitizenID, store.Scope{}, "admin", "art. 17")
	checkMergeThenErasureOfInto(t, s1, counts, err, sms, mail)
}

// Retention's citizen stage holds a citizen left with erased contacts only: a merge of it into
// a live citizen waits, then is refused, and the live citizen gets no erased leftovers.
func TestRetentionThenRacingMergeIsRefused(t *testing.T) {
	s1, s2 := twoReplicas(t)
	ctx := context.Background()
	live, err := s1.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.SMS, ExternalID: "SMmr-ret",
		From: erPhone, To: "+390552768000", Body: erText}})
	if err != nil {
		t.Fatal(err)
	}
	old := oldResolvedContact(t, s1, "<mr-ret@x>")
	release := holdCitizen(t, s1, old.CitizenID)
	wait := retentionRunning(s1)
	waitForSessionsOnLocks(t, s1.DB(), 1)
	merged := mergeRunning(s2, live.CitizenID, old.CitizenID)
	waitForSessionsOnLocks(t, s1.DB(), 2)
	release()
	counts := wait(t)
	if err := merged(); !errors.Is(err, store.ErrCitizenErased) {
		t.Errorf("the merge after retention: %v, want ErrCitizenErased", err)
	}
	if counts.Contacts != 1 || counts.Identities != 1 {
		t.Errorf("retention counts %+v, want the old contact and its citizen's address", counts)
	}
	noLiveContactOnErasedCitizen(t, s1)
	noLiveIdentityOnErasedCitizen(t, s1)
	checkUntouched(t, s1, live, smsIdentity)
}

// A message whose ingest read its address before a merge moved it, and waits for the merge,
// joins the citizen merged into: not the one merged away, where no page would show it.
func TestMergeThenRacingMessageJoinsMergedCitizen(t *testing.T) {
	s1, s2 := twoReplicas(t)
	sms, mail := mergePair(t, s1, "mr-msg")
	release := holdCitizen(t, s1, mail.CitizenID)
	merged := mergeRunning(s1, sms.CitizenID, mail.CitizenID)
	waitForSessionsOnLocks(t, s1.DB(), 1)
	ingestDone := make(chan error, 1)
	var rec channels.Receipt
	go func() {
		var err error
		rec, err = s2.Ingest(context.Background(), raceMail("<mr-msg2@x>"))
		ingestDone <- err
	}()
	waitForSessionsOnLocks(t, s1.DB(), 2)
	release()
	if err := merged(); err != nil {
		t.Fatal(err)
	}
	if err := <-ingestDone; err != nil {
		t.Fatal(err)
	}
	if rec.CitizenID != sms.CitizenID {
		t.Errorf("the message joined citizen %s, want %s (merged into; %s was merged away)", rec.CitizenID, sms.CitizenID, mail.CitizenID)
	}
	c, err := s1.GetCitizen(context.Background(), sms.CitizenID, store.Scope{})
	if err != nil || len(c.Contacts) != 3 || len(c.Identities) != 2 {
		t.Errorf("the merged citizen after the message: %+v %v", c, err)
	}
}
