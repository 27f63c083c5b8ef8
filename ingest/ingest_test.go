package ingest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/ingest"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

type recorder struct {
	mu   sync.Mutex
	got  []string
	gate chan struct{}
}

func (r *recorder) Received(ctx context.Context, in channels.InboundMessage, rec channels.Receipt, d ingest.Decision) {
	<-r.gate
	if ctx.Err() != nil {
		panic("a follower got a cancelled context")
	}
	r.mu.Lock()
	r.got = append(r.got, in.ExternalID)
	r.mu.Unlock()
}

// Followers run after Receive returned, with a context that outlives the request, and Close
// waits for every one of them.
func TestFollowersRunAfterTheAnswerAndCloseWaits(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	rec := &recorder{gate: make(chan struct{})}
	svc, err := ingest.New(ingest.Options{Store: s, Followers: []ingest.Follower{rec}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	for _, sid := range []string{"SM1", "SM2", "SM1"} {
		if _, err := svc.Receive(ctx, channels.InboundMessage{Channel: channels.SMS, ExternalID: sid, From: "+393471234567", To: "+39055055"}); err != nil {
			t.Fatal(err)
		}
	}
	cancel() // the webhook answered: its request context is gone
	rec.mu.Lock()
	if len(rec.got) != 0 {
		t.Fatal("followers ran before Receive returned")
	}
	rec.mu.Unlock()
	close(rec.gate)
	done := make(chan struct{})
	go func() { svc.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not wait for the followers to finish")
	}
	if len(rec.got) != 2 {
		t.Fatalf("followers saw %v, want SM1 and SM2 once (the duplicate is not followed)", rec.got)
	}
}

type comuneDecider string

func (c comuneDecider) Decide(context.Context, channels.InboundMessage) ingest.Decision {
	return ingest.Decision{Comune: string(c)}
}

// Work inside the storing transaction learns a new contact's comune from the receipt (the
// closed-hours email answer relies on it instead of reading the contact back).
func TestInTxReceiptCarriesTheDecidedComune(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	var got []channels.Receipt
	svc, err := ingest.New(ingest.Options{Store: s, Decider: comuneDecider("empoli"), InTx: []ingest.InTx{
		func(ctx context.Context, tx *store.Tx, in channels.InboundMessage, r channels.Receipt) error {
			got = append(got, r)
			return nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	r, err := svc.Receive(context.Background(), channels.InboundMessage{Channel: channels.Email, ExternalID: "a@x", MessageID: "a@x",
		From: "mario@example.it", To: "urp@comune.fi.it", Comune: "firenze", Body: "buongiorno"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.ContactHead(context.Background(), r.ContactID, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].New || got[0].Comune != "empoli" || c.Comune == nil || *c.Comune != got[0].Comune {
		t.Fatalf("in the transaction: %+v; stored comune %v", got, c.Comune)
	}
}
