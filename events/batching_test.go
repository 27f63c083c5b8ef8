package events_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// A burst of events published through the batching notifier reaches every replica's hub, each
// event once and in the order published; Close sends what is queued, and a later Publish fails.
func TestBatchingNotifierDeliversABurstInOrder(t *testing.T) {
	s, url := storetest.OpenURL(t, store.Postgres)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const burst = 600
	hubs := []*events.Hub{events.NewHub(), events.NewHub()}
	var subs []<-chan events.Event
	for _, h := range hubs {
		ch, stop := h.Subscribe(2 * burst)
		defer stop()
		subs = append(subs, ch)
		go events.Listen(ctx, url, h, slog.Default())
	}
	n := events.NewBatchingNotifier(s.DB(), slog.Default())
	// LISTEN starts asynchronously: publish until both replicas heard one.
	deadline := time.Now().Add(10 * time.Second)
	for heard := make([]bool, len(subs)); !heard[0] || !heard[1]; {
		if time.Now().After(deadline) {
			t.Fatal("the listeners never heard the notifier")
		}
		if err := n.Publish(ctx, events.Event{Type: events.QueueChanged}); err != nil {
			t.Fatal(err)
		}
		for i, ch := range subs {
			select {
			case <-ch:
				heard[i] = true
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	began := time.Now()
	for i := range burst {
		if err := n.Publish(ctx, events.Event{Type: events.ContactCreated, ContactID: fmt.Sprintf("c%04d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(began); took > time.Second {
		t.Errorf("publishing %d events held the publisher %s: want it queued, not sent, on the way", burst, took)
	}
	n.Close()
	if err := n.Publish(ctx, events.Event{Type: events.QueueChanged}); !errors.Is(err, events.ErrNotifierClosed) {
		t.Errorf("Publish after Close = %v, want ErrNotifierClosed", err)
	}
	for r, ch := range subs {
		next := 0
		for next < burst {
			select {
			case e := <-ch:
				if e.Type != events.ContactCreated {
					continue // a late probe
				}
				if want := fmt.Sprintf("c%04d", next); e.ContactID != want {
					t.Fatalf("replica %d heard %s where %s was next", r, e.ContactID, want)
				}
				next++
			case <-time.After(10 * time.Second):
				t.Fatalf("replica %d heard %d of %d events", r, next, burst)
			}
		}
	}
}
