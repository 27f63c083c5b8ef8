package desk_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// recordingConnector is a call connector that only records which recordings it was asked to delete.
type recordingConnector struct {
	mu      sync.Mutex
	deleted []string
}

func (c *recordingConnector) Offer(context.Context, string, string, string, string) error { return nil }
func (c *recordingConnector) Transfer(context.Context, string, string, string) error      { return nil }
func (c *recordingConnector) Hold(context.Context, string, string) error                  { return nil }
func (c *recordingConnector) CallBack(context.Context, string, string, string, string, string) (string, error) {
	return "", nil
}
func (c *recordingConnector) DeleteRecording(_ context.Context, sid string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deleted = append(c.deleted, sid)
	return nil
}

// TestEraseCitizenDeletesRecordingsAndAnnounces: the desk's erasure deletes the citizen's call
// recording at the provider and tells open inboxes that each contact changed.
func TestEraseCitizenDeletesRecordingsAndAnnounces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		calls := &recordingConnector{}
		f.d.SetCallConnector(calls)
		ctx := context.Background()
		r, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Phone, ExternalID: "CA" + nextSid("x"),
			From: "+393471112233", To: "+390552768000", ReceivedAt: f.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		const sid = "RE0123456789abcdef0123456789abcdef"
		if err := s.SetCallRecording(ctx, r.ContactID, sid); err != nil {
			t.Fatal(err)
		}
		evs, stop := f.hub.Subscribe(16)
		defer stop()
		admin := f.user("dpo", store.RoleAdmin)
		counts, err := f.d.EraseCitizen(ctx, admin, r.CitizenID, "richiesta")
		if err != nil || counts.Contacts != 1 || counts.Recordings != 1 {
			t.Fatalf("erase: %+v %v", counts, err)
		}
		calls.mu.Lock()
		deleted := append([]string(nil), calls.deleted...)
		calls.mu.Unlock()
		if len(deleted) != 1 || deleted[0] != sid {
			t.Fatalf("recordings deleted at the provider: %v", deleted)
		}
		if got, err := s.CallRecordingSID(ctx, r.ContactID); err != nil || got != "" {
			t.Fatalf("recording still linked: %q %v", got, err)
		}
		deadline := time.After(5 * time.Second)
		for {
			select {
			case e := <-evs:
				if e.Type == events.ContactUpdated && e.ContactID == r.ContactID {
					return
				}
			case <-deadline:
				t.Fatal("no contact.updated event for the erased contact")
			}
		}
	})
}
