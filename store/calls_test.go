package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

func TestCallMetricsFromAnswerAndHangup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		arrived := time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)
		call := func(id string) string {
			t.Helper()
			r, err := s.Ingest(ctx, store.IngestRequest{In: channels.InboundMessage{Channel: channels.Phone, ExternalID: id,
				From: "+393471234567", To: "+39055055", Call: &channels.Call{Status: "ringing"}, ReceivedAt: arrived}})
			if err != nil {
				t.Fatal(err)
			}
			return r.ContactID
		}
		update := func(id string, u store.CallUpdate) {
			t.Helper()
			if _, err := s.UpdateCall(ctx, channels.Phone, id, u); err != nil {
				t.Fatal(err)
			}
		}
		at := func(seconds int) *time.Time { v := arrived.Add(time.Duration(seconds) * time.Second); return &v }
		get := func(id string) *channels.Call {
			t.Helper()
			c, err := s.GetContact(ctx, id, store.Scope{})
			if err != nil || c.Call == nil {
				t.Fatalf("contact %v %v", c, err)
			}
			return c.Call
		}
		intIs := func(what string, got *int, want int) {
			t.Helper()
			if got == nil || *got != want {
				t.Fatalf("%s = %v, want %d", what, got, want)
			}
		}

		answered := call("CTI-answered")
		update("CTI-answered", store.CallUpdate{Status: "in-progress", AnsweredAt: at(18), Operator: "anna"})
		update("CTI-answered", store.CallUpdate{Status: "completed", EndedAt: at(18 + 117)})
		// A retried answer event must not move the recorded answer.
		update("CTI-answered", store.CallUpdate{AnsweredAt: at(40)})
		c := get(answered)
		if c.Result == nil || *c.Result != channels.CallAnswered || c.AnsweredBy == nil || *c.AnsweredBy != "anna" {
			t.Fatalf("answered call %+v", c)
		}
		intIs("wait", c.WaitSeconds, 18)
		intIs("talk", c.TalkSeconds, 117)

		abandoned := call("CTI-abandoned")
		update("CTI-abandoned", store.CallUpdate{Status: "completed", EndedAt: at(45)})
		c = get(abandoned)
		if c.Result == nil || *c.Result != channels.CallAbandoned || c.TalkSeconds != nil || c.AnsweredBy != nil {
			t.Fatalf("abandoned call %+v", c)
		}
		intIs("wait", c.WaitSeconds, 45)

		// Twilio reports the queue's own wait, which wins over arrival-to-answer (the menu).
		queued := call("CA-queued")
		wait := 30
		update("CA-queued", store.CallUpdate{Result: channels.CallAnswered, WaitSeconds: &wait})
		update("CA-queued", store.CallUpdate{AnsweredAt: at(50), TransferredTo: "+390553283333"})
		c = get(queued)
		intIs("wait", c.WaitSeconds, 30)
		if c.TransferredTo == nil || *c.TransferredTo != "+390553283333" {
			t.Fatalf("transferred %+v", c)
		}

		voicemail := call("CA-voicemail")
		update("CA-voicemail", store.CallUpdate{Status: "voicemail", Result: channels.CallVoicemail})
		update("CA-voicemail", store.CallUpdate{Status: "completed", EndedAt: at(90)})
		c = get(voicemail)
		if c.Result == nil || *c.Result != channels.CallVoicemail || c.WaitSeconds != nil {
			t.Fatalf("voicemail %+v", c)
		}
	})
}
