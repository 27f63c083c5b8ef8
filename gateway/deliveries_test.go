package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

type countingSink struct{ n int }

func (c *countingSink) UpdateDelivery(context.Context, channels.DeliveryUpdate) error {
	c.n++
	return nil
}

type claimingSink struct {
	countingSink
	owns string
}

func (c *claimingSink) ClaimDelivery(_ context.Context, u channels.DeliveryUpdate) (bool, error) {
	c.n++
	return u.ExternalID == c.owns, nil
}

// A callback the alerts claim costs the other parts nothing; any other still reaches them.
func TestClaimedDeliveryGoesNoFurther(t *testing.T) {
	replies := &countingSink{}
	alerts := &claimingSink{owns: "SMalert"}
	sinks := deliverySinks{replies, alerts}
	if err := sinks.UpdateDelivery(context.Background(), channels.DeliveryUpdate{ExternalID: "SMalert", Status: "delivered"}); err != nil {
		t.Fatal(err)
	}
	if replies.n != 0 || alerts.n != 1 {
		t.Fatalf("claimed callback: replies asked %d times, alerts %d", replies.n, alerts.n)
	}
	if err := sinks.UpdateDelivery(context.Background(), channels.DeliveryUpdate{ExternalID: "SMreply", Status: "delivered"}); err != nil {
		t.Fatal(err)
	}
	if replies.n != 1 || alerts.n != 2 {
		t.Fatalf("other callback: replies asked %d times, alerts %d", replies.n, alerts.n)
	}
}

// storeSink writes for every callback, as the replies' sink does even for a callback that
// turns out not to be its own.
type storeSink struct{ s *store.Store }

func (w storeSink) UpdateDelivery(ctx context.Context, _ channels.DeliveryUpdate) error {
	return w.s.Write(ctx, func(context.Context, *store.Tx) error { return nil })
}

// Status callbacks are bulk work: as people's writes they made the fan-out's governor slow
// every fan-out down, with no citizen writing.
func TestDeliveryCallbacksAreBulkWork(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	sinks := deliverySinks{&claimingSink{owns: "SMalert"}, storeSink{s}}
	before := time.Now()
	if err := sinks.UpdateDelivery(context.Background(), channels.DeliveryUpdate{ExternalID: "SMnotyetrecorded", Status: "sent"}); err != nil {
		t.Fatal(err)
	}
	if s.MainWritesWithin(time.Since(before)) {
		t.Fatal("a status callback's write was queued as people's work, not bulk")
	}
}
