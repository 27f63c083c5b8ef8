package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// A provider's retries that arrive while their original waits in the write queue share its
// batch: they get its receipt, and one message is stored, without an error for anyone (a
// unique violation would fail the batch and answer a webhook 500).
func TestRetriesInTheBatchOfTheirOriginal(t *testing.T) {
	storetest.EachWith(t, oneLoop, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		release := holdWriter(t, s)
		const n = 4
		recs := make([]channels.Receipt, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				recs[i], errs[i] = s.Ingest(ctx, sms("SMretry", "+393471234567", "ciao"))
			}()
			waitQueued(t, s, i+1)
		}
		before := store.Commits(s)
		release()
		wg.Wait()
		originals := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("ingest %d: %v", i, errs[i])
			}
			if !recs[i].Duplicate {
				originals++
			}
			if recs[i].ContactID != recs[0].ContactID || recs[i].MessageID != recs[0].MessageID {
				t.Errorf("ingest %d: %+v, ingest 0: %+v: want the same contact and message", i, recs[i], recs[0])
			}
		}
		if originals != 1 {
			t.Errorf("%d ingests stored the message, want 1", originals)
		}
		if c := store.Commits(s) - before; c != 1 {
			t.Errorf("%d commits after the release, want 1 (the queued writes join the holding write's batch)", c)
		}
		if m, _ := s.CountMessages(ctx, ""); m != 1 {
			t.Errorf("%d messages stored, want 1", m)
		}
	})
}
