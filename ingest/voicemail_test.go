package ingest_test

import (
	"context"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/ingest"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// The same voicemail reported twice (the <Record action> retried, or its URL repeated by the
// call's status callback) is one attachment; both reports are answered as recorded.
func TestVoicemailReportedTwiceIsOneAttachment(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	svc, err := ingest.New(ingest.Options{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ctx := context.Background()
	const sid = "CA0123456789abcdef0123456789abcd02"
	r, err := svc.Receive(ctx, channels.InboundMessage{Channel: channels.Phone, ExternalID: sid, From: "+393471234567", To: "+39055055",
		Call: &channels.Call{Status: "ringing"}})
	if err != nil {
		t.Fatal(err)
	}
	const recording = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE0123456789abcdef0123456789abcdef"
	reports := []channels.CallEvent{
		{Status: "voicemail", RecordingURL: recording, Result: channels.CallVoicemail},
		{Status: "voicemail", RecordingURL: recording, Result: channels.CallVoicemail},
		{Status: "completed", RecordingURL: recording},
	}
	for i, ev := range reports {
		if id, err := svc.UpdateCall(ctx, channels.Phone, sid, ev); err != nil || id != r.ContactID {
			t.Fatalf("report %d: contact %q, %v", i, id, err)
		}
	}
	c, err := s.GetContact(ctx, r.ContactID, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Attachments) != 1 || c.Attachments[0].URL != recording || c.Attachments[0].Filename != "voicemail.wav" {
		t.Fatalf("attachments %+v, want the one voicemail", c.Attachments)
	}
}
