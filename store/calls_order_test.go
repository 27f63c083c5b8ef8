package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// callArrival is when every call of these tests arrives.
var callArrival = time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)

// callAt is a moment seconds after the call's arrival (before it, when negative).
func callAt(seconds int) *time.Time {
	t := callArrival.Add(time.Duration(seconds) * time.Second)
	return &t
}

func newCall(t *testing.T, s *store.Store, callID string) string {
	t.Helper()
	r, err := s.Ingest(context.Background(), store.IngestRequest{In: channels.InboundMessage{Channel: channels.Phone, ExternalID: callID,
		From: "+393471234567", To: "+39055055", Call: &channels.Call{Status: "ringing"}, ReceivedAt: callArrival}})
	if err != nil {
		t.Fatal(err)
	}
	return r.ContactID
}

func updateCall(t *testing.T, s *store.Store, callID string, u store.CallUpdate) {
	t.Helper()
	if _, err := s.UpdateCall(context.Background(), channels.Phone, callID, u); err != nil {
		t.Fatal(err)
	}
}

func recordedCall(t *testing.T, s *store.Store, contactID string) *channels.Call {
	t.Helper()
	c, err := s.GetContact(context.Background(), contactID, store.Scope{})
	if err != nil || c.Call == nil {
		t.Fatalf("contact %+v %v", c, err)
	}
	return c.Call
}

// wantCall compares the figures reports use; want's nil pointers mean "not recorded".
type wantCall struct {
	status, result string
	wait, talk     *int
}

func seconds(n int) *int { return &n }

func checkCall(t *testing.T, got *channels.Call, want wantCall) {
	t.Helper()
	show := func(p *int) string {
		if p == nil {
			return "none"
		}
		return fmt.Sprint(*p)
	}
	result := ""
	if got.Result != nil {
		result = *got.Result
	}
	if got.Status != want.status || result != want.result || show(got.WaitSeconds) != show(want.wait) || show(got.TalkSeconds) != show(want.talk) {
		t.Errorf("call: status %q, result %q, wait %s, talk %s; want %q, %q, wait %s, talk %s",
			got.Status, result, show(got.WaitSeconds), show(got.TalkSeconds), want.status, want.result, show(want.wait), show(want.talk))
	}
}

// A PBX's hang-up (T+60) delivered before its answer (T+10): the call was answered after a
// 10 s wait and talked for 50 s, it ended, and the late answer must not reopen it.
func TestCallHangupReportedBeforeItsAnswerIsAnsweredAndEnded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		id := newCall(t, s, "CTI-late-answer")
		updateCall(t, s, "CTI-late-answer", store.CallUpdate{Status: "completed", EndedAt: callAt(60), Operator: "anna"})
		checkCall(t, recordedCall(t, s, id), wantCall{status: "completed", result: channels.CallAbandoned, wait: seconds(60)})

		updateCall(t, s, "CTI-late-answer", store.CallUpdate{Status: "in-progress", AnsweredAt: callAt(10), Operator: "anna"})
		c := recordedCall(t, s, id)
		checkCall(t, c, wantCall{status: "completed", result: channels.CallAnswered, wait: seconds(10), talk: seconds(50)})
		if c.DurationSeconds != 50 || c.AnsweredAt == nil || !c.AnsweredAt.Equal(*callAt(10)) {
			t.Errorf("duration %d, answered at %v; want 50 and %v", c.DurationSeconds, c.AnsweredAt, callAt(10))
		}
	})
}

// Events retried after the hang-up (the answer, a requeue) leave the ended call as it is.
func TestCallLiveStatusReportedAfterHangupKeepsCallEnded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		id := newCall(t, s, "CTI-retried")
		updateCall(t, s, "CTI-retried", store.CallUpdate{Status: "in-progress", AnsweredAt: callAt(20), Operator: "anna"})
		updateCall(t, s, "CTI-retried", store.CallUpdate{Status: "completed", EndedAt: callAt(80)})
		ended := wantCall{status: "completed", result: channels.CallAnswered, wait: seconds(20), talk: seconds(60)}
		checkCall(t, recordedCall(t, s, id), ended)

		updateCall(t, s, "CTI-retried", store.CallUpdate{Status: "in-progress", AnsweredAt: callAt(30), Operator: "anna"})
		updateCall(t, s, "CTI-retried", store.CallUpdate{Status: "queued"})
		checkCall(t, recordedCall(t, s, id), ended)

		// A status that says how the call ended still replaces another (the provider's last word).
		updateCall(t, s, "CTI-retried", store.CallUpdate{Status: "completed:busy", EndedAt: callAt(90)})
		ended.status = "completed:busy"
		checkCall(t, recordedCall(t, s, id), ended)
	})
}

// A result the provider stated (Twilio's QueueResult=hangup, with its QueueTime) is not
// overturned by an answer reported later, unlike one the store derived.
func TestCallStatedResultSurvivesLateAnswer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		id := newCall(t, s, "CA-stated-abandoned")
		updateCall(t, s, "CA-stated-abandoned", store.CallUpdate{Status: "completed", EndedAt: callAt(45),
			WaitSeconds: seconds(40), Result: channels.CallAbandoned})
		updateCall(t, s, "CA-stated-abandoned", store.CallUpdate{Status: "in-progress", AnsweredAt: callAt(44), Operator: "anna"})
		checkCall(t, recordedCall(t, s, id), wantCall{status: "completed", result: channels.CallAbandoned, wait: seconds(40), talk: seconds(1)})
	})
}

// Once the answer is known, a queue's own wait reported with it (Twilio's bridged QueueTime)
// replaces the wait that was measured to the hang-up.
func TestCallLateAnswerTakesTheProvidersWait(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		id := newCall(t, s, "CA-late-bridged")
		updateCall(t, s, "CA-late-bridged", store.CallUpdate{Status: "completed", EndedAt: callAt(300)})
		updateCall(t, s, "CA-late-bridged", store.CallUpdate{Status: "in-progress", AnsweredAt: callAt(100), WaitSeconds: seconds(70)})
		checkCall(t, recordedCall(t, s, id), wantCall{status: "completed", result: channels.CallAnswered, wait: seconds(70), talk: seconds(200)})
	})
}

// An answer or hang-up stamped before the call arrived (a PBX clock set back) counts from the
// arrival: no negative wait, no talk time added.
func TestCallTimesBeforeArrivalCountFromArrival(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		answered := newCall(t, s, "CTI-early-answer")
		updateCall(t, s, "CTI-early-answer", store.CallUpdate{Status: "in-progress", AnsweredAt: callAt(-3600)})
		updateCall(t, s, "CTI-early-answer", store.CallUpdate{Status: "completed", EndedAt: callAt(30)})
		c := recordedCall(t, s, answered)
		checkCall(t, c, wantCall{status: "completed", result: channels.CallAnswered, wait: seconds(0), talk: seconds(30)})
		if c.AnsweredAt == nil || !c.AnsweredAt.Equal(callArrival) {
			t.Errorf("answered at %v, want the arrival %v", c.AnsweredAt, callArrival)
		}

		abandoned := newCall(t, s, "CTI-early-hangup")
		updateCall(t, s, "CTI-early-hangup", store.CallUpdate{Status: "completed", EndedAt: callAt(-86400)})
		c = recordedCall(t, s, abandoned)
		checkCall(t, c, wantCall{status: "completed", result: channels.CallAbandoned, wait: seconds(0)})
		if c.EndedAt == nil || !c.EndedAt.Equal(callArrival) {
			t.Errorf("ended at %v, want the arrival %v", c.EndedAt, callArrival)
		}
	})
}

// Two replicas write the answer and the hang-up of one call at the same moment (PostgreSQL,
// READ COMMITTED): the second to commit must merge into the first's result, not write figures
// it derived from the state both read before either committed.
func TestCallAnswerAndHangupWrittenTogetherByTwoReplicas(t *testing.T) {
	a, url := storetest.OpenURL(t, store.Postgres)
	ctx := context.Background()
	b, err := store.Open(ctx, store.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	id := newCall(t, a, "CTI-race")
	// Hold the contact's row so that both writes are under way before either commits.
	hold, err := a.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hold.ExecContext(ctx, "SELECT id FROM contacts WHERE id = $1 FOR UPDATE", id); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	go func() {
		_, err := a.UpdateCall(ctx, channels.Phone, "CTI-race", store.CallUpdate{Status: "in-progress", AnsweredAt: callAt(10), Operator: "anna"})
		errs <- err
	}()
	go func() {
		_, err := b.UpdateCall(ctx, channels.Phone, "CTI-race", store.CallUpdate{Status: "completed", EndedAt: callAt(60)})
		errs <- err
	}()
	waitForSessionsOnLocks(t, a.DB(), 2)
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	checkCall(t, recordedCall(t, a, id), wantCall{status: "completed", result: channels.CallAnswered, wait: seconds(10), talk: seconds(50)})
}

// The same recording reported twice (a retried callback) is one attachment; another
// recording of the same call is another.
func TestAddAttachmentOnceKeepsOneAttachmentPerURL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		id := newCall(t, s, "CA-recorded")
		voicemail := channels.Attachment{Filename: "voicemail.wav", ContentType: "audio/wav",
			URL: "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE01"}
		first, added, err := s.AddAttachmentOnce(ctx, id, voicemail)
		if err != nil || !added {
			t.Fatalf("first report: added %v, %v", added, err)
		}
		again, added, err := s.AddAttachmentOnce(ctx, id, voicemail)
		if err != nil || added || again != first {
			t.Fatalf("second report: id %q (first %q), added %v, %v", again, first, added, err)
		}
		other := voicemail
		other.URL += "-second"
		if _, added, err := s.AddAttachmentOnce(ctx, id, other); err != nil || !added {
			t.Fatalf("another recording: added %v, %v", added, err)
		}
		c, err := s.GetContact(ctx, id, store.Scope{})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Attachments) != 2 {
			t.Errorf("%d attachments, want 2 (one per recording)", len(c.Attachments))
		}
		if _, _, err := s.AddAttachmentOnce(ctx, id, channels.Attachment{Filename: "x.wav"}); !errors.Is(err, store.ErrAttachmentWithoutURL) {
			t.Errorf("an attachment without URL: %v, want ErrAttachmentWithoutURL", err)
		}
		if _, _, err := s.AddAttachmentOnce(ctx, "no-such-contact", voicemail); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an unknown contact: %v, want ErrNotFound", err)
		}
	})
}
