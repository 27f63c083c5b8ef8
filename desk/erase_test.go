package desk_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// recordingConnector is a call connector that only records which recordings it was asked to
// delete; while fail is set it refuses, as a provider that is down.
type recordingConnector struct {
	mu      sync.Mutex
	deleted []string
	fail    error
}

func (c *recordingConnector) Offer(context.Context, string, string, string, string, string) error {
	return nil
}
func (c *recordingConnector) Transfer(context.Context, string, string, string) error { return nil }
func (c *recordingConnector) Hold(context.Context, string, string) error             { return nil }
func (c *recordingConnector) CallBack(context.Context, string, string, string, string, string) (string, error) {
	return "", nil
}
func (c *recordingConnector) DeleteRecording(_ context.Context, sid string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	c.deleted = append(c.deleted, sid)
	return nil
}

func (c *recordingConnector) setFail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail = err
}

func (c *recordingConnector) deletedSIDs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.deleted...)
}

// TestEraseCitizenDeletesRecordingsAndAnnounces: the desk's erasure deletes the citizen's call
// recording at the provider and tells open inboxes that each contact changed.
func TestEraseCitizenDeletesRecordingsAndAnnounces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f, calls := newRecordingFixture(t, s)
		ctx := context.Background()
		const sid = "RE0123456789abcdef0123456789abcdef"
		r := f.recordedCall(sid, "+393471112233", f.clock.Now())
		evs, stop := f.hub.Subscribe(16)
		defer stop()
		admin := f.user("dpo", store.RoleAdmin)
		counts, err := f.d.EraseCitizen(ctx, admin, r.CitizenID, "richiesta")
		if err != nil || counts.Contacts != 1 || counts.Recordings != 1 {
			t.Fatalf("erase: %+v %v", counts, err)
		}
		if q, err := s.RecordingDeletions(ctx, 10); err != nil || len(q) != 0 {
			t.Fatalf("still queued after the deletion: %+v %v", q, err)
		}
		if deleted := calls.deletedSIDs(); len(deleted) != 1 || deleted[0] != sid {
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

// TestRecordingsFailedAtTheProviderStayQueued: a recording the provider could not delete at the
// erasure (it was down) stays queued with the reason, and a later pass deletes it; the daily
// retention of recordings queues the recordings it unlinks the same way.
func TestRecordingsFailedAtTheProviderStayQueued(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f, calls := newRecordingFixture(t, s)
		ctx := context.Background()
		const erased, retained = "RE0123456789abcdef0123456789abcde1", "RE0123456789abcdef0123456789abcde2"
		r := f.recordedCall(erased, "+393471112233", f.clock.Now())
		calls.setFail(errors.New("HTTP 503"))
		counts, err := f.d.EraseCitizen(ctx, f.user("dpo", store.RoleAdmin), r.CitizenID, "richiesta")
		if err != nil || counts.Recordings != 1 {
			t.Fatalf("erase: %+v %v", counts, err)
		}
		q, err := s.RecordingDeletions(ctx, 10)
		if err != nil || len(q) != 1 || q[0].SID != erased || q[0].Attempts != 1 || !strings.Contains(q[0].Error, "503") {
			t.Fatalf("queue after a refused deletion: %+v %v", q, err)
		}

		// The store's clock is the real one: the call is 100 days old by it.
		old := f.recordedCall(retained, "+393471112244", time.Now().Add(-100*24*time.Hour))
		if err := f.d.Resolve(ctx, f.user("sup", store.RoleSupervisor), old.ContactID, desk.Resolution{Outcome: "first_level"}); err != nil {
			t.Fatal(err)
		}
		if c, err := s.ApplyRetention(ctx, store.Retention{Recordings: 90}); err != nil || c.Recordings != 1 {
			t.Fatalf("retention: %+v %v", c, err)
		}
		if got, err := s.CallRecordingSID(ctx, old.ContactID); err != nil || got != "" {
			t.Fatalf("the retained recording is still linked: %q %v", got, err)
		}
		if n, err := f.d.PurgeRecordings(ctx); err == nil || n != 0 {
			t.Fatalf("a pass while the provider refuses: %d %v", n, err)
		}

		calls.setFail(nil)
		if n, err := f.d.PurgeRecordings(ctx); err != nil || n != 2 {
			t.Fatalf("a pass once the provider is back: %d %v", n, err)
		}
		if got := calls.deletedSIDs(); !slices.Contains(got, erased) || !slices.Contains(got, retained) || len(got) != 2 {
			t.Fatalf("deleted at the provider: %v", got)
		}
		if q, err := s.RecordingDeletions(ctx, 10); err != nil || len(q) != 0 {
			t.Fatalf("queue at the end: %+v %v", q, err)
		}
	})
}

// newRecordingFixture is a desk fixture whose call connector records the deletions asked of it.
func newRecordingFixture(t *testing.T, s *store.Store) (*fixture, *recordingConnector) {
	f := newFixture(t, s)
	calls := &recordingConnector{}
	f.d.SetCallConnector(calls)
	return f, calls
}

// recordedCall stores a call from a citizen, received at, with the provider's recording sid.
func (f *fixture) recordedCall(sid, from string, at time.Time) channels.Receipt {
	f.t.Helper()
	ctx := context.Background()
	r, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Phone, ExternalID: "CA" + nextSid("x"),
		From: from, To: "+390552768000", ReceivedAt: at})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.s.SetCallRecording(ctx, r.ContactID, sid); err != nil {
		f.t.Fatal(err)
	}
	return r
}
