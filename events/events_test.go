package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
	"log/slog"
)

func TestHubDeliversToEverySubscriber(t *testing.T) {
	h := events.NewHub()
	a, stopA := h.Subscribe(1)
	b, stopB := h.Subscribe(1)
	defer stopB()
	if err := h.Publish(context.Background(), events.Event{Type: events.ContactCreated, ContactID: "c1"}); err != nil {
		t.Fatal(err)
	}
	if (<-a).ContactID != "c1" || (<-b).ContactID != "c1" {
		t.Fatal("event not delivered")
	}
	stopA()
	stopA() // twice is harmless
	if h.Subscribers() != 1 {
		t.Fatalf("subscribers = %d", h.Subscribers())
	}
	// A full subscriber does not block the publisher.
	for _, typ := range []string{"x", "y"} {
		if err := h.Publish(context.Background(), events.Event{Type: typ}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNotifyReachesEveryReplica(t *testing.T) {
	s, url := storetest.OpenURL(t, store.Postgres)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hubs := []*events.Hub{events.NewHub(), events.NewHub()}
	var subs []<-chan events.Event
	for _, h := range hubs {
		ch, stop := h.Subscribe(4)
		defer stop()
		subs = append(subs, ch)
		go events.Listen(ctx, url, h, slog.Default())
	}
	n := &events.Notifier{DB: s.DB()}
	deadline := time.After(10 * time.Second)
	// LISTEN starts asynchronously: publish until both replicas heard one.
	got := make([]bool, len(subs))
	for !got[0] || !got[1] {
		if err := n.Publish(ctx, events.Event{Type: events.ContactCreated, ContactID: "c9"}); err != nil {
			t.Fatal(err)
		}
		for i, ch := range subs {
			select {
			case e := <-ch:
				if e.ContactID == "c9" {
					got[i] = true
				}
			case <-time.After(50 * time.Millisecond):
			case <-deadline:
				t.Fatal("notification did not reach both listeners")
			}
		}
	}
}
