package desk_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

func TestReplyToPECFromTheComunePECAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		pecSender := &fakeSender{}
		f := newFixture(t, s, func(o *desk.Options) { o.Senders[channels.PEC] = pecSender })
		ctx := context.Background()
		op := f.user("op", store.RoleOperator)
		r, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.PEC, ExternalID: "opec1@pec.example", MessageID: "orig1@pec.example",
			From: "mario@pec.example", To: "protocollo@pec.comune.fi.it", Comune: "firenze", Subject: "Accesso agli atti", Body: "chiedo",
			PEC: &channels.PECInfo{ID: "opec1@pec.example", Signature: "valid"}, ReceivedAt: f.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		// Without a PEC address the comune cannot answer a PEC: nothing is queued.
		if st, code := deskCode(t, func() error { _, err := f.d.Reply(ctx, op, r.ContactID, "x"); return err }()); st != 400 || code != "unreachable" {
			t.Fatalf("no pec_address: %d %s", st, code)
		}
		for i := range f.cfg.Comuni {
			if f.cfg.Comuni[i].ID == "firenze" {
				f.cfg.Comuni[i].PECAddress = "Protocollo@PEC.comune.fi.it"
			}
		}
		m, err := f.d.Reply(ctx, op, r.ContactID, "Risposta certificata.")
		if err != nil {
			t.Fatal(err)
		}
		if m.Channel != channels.PEC || m.To != "mario@pec.example" || !strings.Contains(m.From, "<protocollo@pec.comune.fi.it>") ||
			m.InReplyTo != "orig1@pec.example" || m.Subject != "Re: Accesso agli atti" || m.MessageID == "" {
			t.Fatalf("PEC reply: %+v", m)
		}
		if m.DeliveryDueAt == nil || !m.DeliveryDueAt.Equal(m.CreatedAt.Add(24*time.Hour)) {
			t.Fatalf("delivery due %v, want 24h after %v", m.DeliveryDueAt, m.CreatedAt)
		}
		f.waitFor("the PEC reply", func() bool { return len(pecSender.Sent()) == 1 })
		if sent := pecSender.Sent()[0]; sent.Channel != channels.PEC || sent.MessageID != m.MessageID || sent.From != m.From {
			t.Fatalf("sent: %+v", sent)
		}
		if len(f.email.Sent()) != 0 {
			t.Fatal("a PEC reply went out as ordinary email")
		}
		// When its deadline passes without a receipt, open pages hear of it once.
		evs, stop := f.hub.Subscribe(16)
		defer stop()
		if ids, err := f.d.AnnounceDeliveriesDue(ctx, m.CreatedAt, m.CreatedAt.Add(23*time.Hour)); err != nil || len(ids) != 0 {
			t.Fatalf("before the deadline: %v %v", ids, err)
		}
		ids, err := f.d.AnnounceDeliveriesDue(ctx, m.CreatedAt.Add(23*time.Hour), m.CreatedAt.Add(25*time.Hour))
		if err != nil || len(ids) != 1 || ids[0] != r.ContactID {
			t.Fatalf("at the deadline: %v %v", ids, err)
		}
		// (The send job's own update may come first, without a comune.)
		timeout := time.After(5 * time.Second)
		for seen := false; !seen; {
			select {
			case ev := <-evs:
				seen = ev.ContactID == r.ContactID && ev.Comune == "firenze"
			case <-timeout:
				t.Fatal("no live event for the overdue reply")
			}
		}
		if _, err := s.ApplyDeliveryReceipt(ctx, channels.DeliveryReceipt{Channel: channels.PEC, Comune: "firenze", RefMessageID: m.MessageID, Delivery: channels.DeliveryDelivered}); err != nil {
			t.Fatal(err)
		}
		if ids, err := f.d.AnnounceDeliveriesDue(ctx, m.CreatedAt, m.CreatedAt.Add(25*time.Hour)); err != nil || len(ids) != 0 {
			t.Fatalf("a delivered reply is not overdue: %v %v", ids, err)
		}
	})
}
