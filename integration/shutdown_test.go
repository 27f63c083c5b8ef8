package integration

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

// A reply being sent when the gateway is told to stop is finished, not cancelled: shutdown
// stops River softly before ending its context, so the send completes and is recorded, and
// the citizen gets it exactly once. (Cancelling River's start context first made River cancel
// the send mid-request and retry it after the restart.)
func TestShutdownFinishesAReplyInFlight(t *testing.T) {
	gw := harness.Start(t, harness.Options{})
	emu := ownEveryNumber(t, gw)
	op := gw.User(t, "op", store.RoleOperator)
	inboundSMS(t, gw, "+393473330002", firenzeNumber, "il mercato di domenica si fa?")
	c := newestContact(t, gw, op, "+393473330002")

	emu.SetLatency(1500 * time.Millisecond) // Twilio is slow: the send is in flight at the stop
	var msg channels.Message
	if st := harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+c.ID+"/reply", op, map[string]string{"body": "Sì, dalle 8 alle 13."}, &msg); st != 202 {
		t.Fatalf("reply: %d", st)
	}
	waitUntil(t, 20*time.Second, "the send to reach Twilio", func() bool { return emu.Requests() > 0 })
	gw.Stop(t)

	if n := emu.Count(); n != 1 {
		t.Fatalf("Twilio holds %d messages after the shutdown, want 1 (the send in flight was cancelled)", n)
	}
	s, err := store.Open(context.Background(), store.Options{DataDir: gw.DataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	m, err := s.OutboundMessage(context.Background(), msg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != store.OutSent || m.ExternalID == "" {
		t.Fatalf("after the shutdown the reply is %q (id %q), want sent with Twilio's id", m.Status, m.ExternalID)
	}
	if _, ok := emu.Message(m.ExternalID); !ok {
		t.Fatalf("recorded id %s is not the message Twilio holds", m.ExternalID)
	}
}
