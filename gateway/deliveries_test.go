package gateway

import (
	"context"
	"testing"

	"github.com/sportello/sportello/channels"
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
