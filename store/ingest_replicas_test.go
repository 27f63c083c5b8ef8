package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// Two SMS from a citizen never seen before reach two replicas at the same moment: both create
// the citizen, and the second identity insert meets the first's key. The second SMS is stored
// all the same, with the same citizen (Twilio does not retry an inbound SMS's webhook).
func TestTwoReplicasStoreTheFirstTwoMessagesOfANewCitizen(t *testing.T) {
	a, url := storetest.OpenURL(t, store.Postgres)
	ctx := context.Background()
	b, err := store.Open(ctx, store.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	msg := func(sid, body string) channels.InboundMessage {
		return channels.InboundMessage{Channel: channels.SMS, ExternalID: sid, From: "+393471234567", To: "+39055055",
			Body: body, ReceivedAt: time.Now()}
	}
	release := make(chan struct{})
	inA := make(chan struct{})
	var wg sync.WaitGroup
	var errA, errB error
	var recA, recB channels.Receipt
	wg.Add(1)
	go func() {
		defer wg.Done()
		recA, errA = a.Ingest(ctx, store.IngestRequest{In: msg("SM00000000000000000000000000000001", "prima parte"),
			After: func(context.Context, *store.Tx, channels.Receipt) error {
				close(inA)
				<-release // replica A has inserted citizen and identity, not committed yet
				return nil
			}})
	}()
	<-inA
	wg.Add(1)
	go func() {
		defer wg.Done()
		recB, errB = b.Ingest(ctx, store.IngestRequest{In: msg("SM00000000000000000000000000000002", "seconda parte")})
	}()
	waitForSessionsOnLocks(t, a.DB(), 1) // B has read "no identity" and waits on A's key
	close(release)
	wg.Wait()
	if errA != nil {
		t.Fatalf("replica A: %v", errA)
	}
	if errB != nil {
		t.Fatalf("replica B lost the citizen's second SMS: %v", errB)
	}
	if recA.CitizenID == "" || recB.CitizenID != recA.CitizenID {
		t.Fatalf("citizens %q and %q: one sender is one citizen", recA.CitizenID, recB.CitizenID)
	}
}
