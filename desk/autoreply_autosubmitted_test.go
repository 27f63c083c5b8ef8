package desk_test

import (
	"context"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// TestClosedHoursEmailIsSentAsAutoReply: the closed-hours email reaches the sender marked as
// an automatic answer (the relay writes Auto-Submitted from it); the operator's reply on the
// same contact is not marked.
func TestClosedHoursEmailIsSentAsAutoReply(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		f.clock.Set(closedTime)
		r, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "q1@example.it", MessageID: "q1@example.it",
			From: "lucia@example.it", To: "urp@comune.fi.it", Subject: "Rifiuti", Body: "Quando passa il ritiro?", ReceivedAt: closedTime,
			EnvelopeFrom: "lucia@example.it", SenderCheck: channels.SenderPass})
		if err != nil {
			t.Fatal(err)
		}
		f.waitFor("the closed-hours email", func() bool { return len(f.email.Sent()) == 1 })
		if notice := f.email.Sent()[0]; !notice.AutoReply || notice.To != "lucia@example.it" {
			t.Fatalf("closed-hours email not marked as an automatic answer: %+v", notice)
		}
		op := f.user("op", store.RoleOperator)
		if _, err := f.d.Reply(ctx, op, r.ContactID, "Passa martedì."); err != nil {
			t.Fatal(err)
		}
		f.waitFor("the operator's reply", func() bool { return len(f.email.Sent()) == 2 })
		if reply := f.email.Sent()[1]; reply.AutoReply {
			t.Fatalf("an operator's reply marked as an automatic answer: %+v", reply)
		}
	})
}

// TestClosedHoursEmailWithheldWhenSenderUnknown: a sender the checks could neither verify nor
// refute (no SPF, DKIM or DMARC record: SenderNone) gets no closed-hours answer, even with a
// matching envelope: its From may be forged.
func TestClosedHoursEmailWithheldWhenSenderUnknown(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		f.clock.Set(closedTime)
		if _, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "u1@nospf.example", MessageID: "u1@nospf.example",
			From: "someone@nospf.example", To: "urp@comune.fi.it", Subject: "Rifiuti", Body: "Quando passa il ritiro?", ReceivedAt: closedTime,
			EnvelopeFrom: "someone@nospf.example", SenderCheck: channels.SenderNone}); err != nil {
			t.Fatal(err)
		}
		f.waitFor("every queued answer sent", f.jobsSettled)
		if sent := f.email.Sent(); len(sent) != 0 {
			t.Fatalf("answered a sender nothing verified: %+v", sent)
		}
	})
}
