package desk_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// callbackBeforeAnswer is an SMS provider whose first REST answer is lost (timeout), and whose
// status callback ("delivered") reaches the gateway before the retry settles the send.
type callbackBeforeAnswer struct {
	*lossyProvider
	d    func() *desk.Desk
	once sync.Once
}

func (p *callbackBeforeAnswer) Send(ctx context.Context, m channels.OutboundMessage) (channels.SendResult, error) {
	res, err := p.lossyProvider.Send(ctx, m)
	if err != nil {
		p.once.Do(func() {
			p.mu.Lock()
			sid := p.accepted[len(p.accepted)-1].sid
			p.mu.Unlock()
			// Twilio calls back while our message is still queued with no provider id: held.
			if uerr := p.d().UpdateDelivery(context.Background(), channels.DeliveryUpdate{Channel: channels.SMS,
				ExternalID: sid, Status: "delivered"}); uerr != nil {
				panic(uerr)
			}
		})
	}
	return res, err
}

// A status callback that came while the send's outcome was lost (held: the message had no
// provider id yet) is applied when the retry settles the message through the provider's list.
func TestHeldDeliveryIsAppliedWhenAnInterruptedSendSettles(t *testing.T) {
	for _, k := range storetest.Dialects {
		t.Run(string(k), func(t *testing.T) {
			s := storetest.Open(t, k)
			lp := &lossyProvider{lose: 1}
			var f *fixture
			p := &callbackBeforeAnswer{lossyProvider: lp, d: func() *desk.Desk { return f.d }}
			f = newFixture(t, s, func(o *desk.Options) { o.Lookup = lp })
			f.senders[channels.SMS] = p
			ctx := context.Background()
			op := f.user("op", store.RoleOperator)
			r := f.text(mobile, "+39055055", "la ZTL è attiva oggi?")
			if _, err := f.d.Reply(ctx, op, r.ContactID, "Sì, fino alle 19:30."); err != nil {
				t.Fatal(err)
			}
			f.waitFor("settled", func() bool { return f.lastOutbound(r.ContactID).Status != store.OutQueued })
			f.waitFor("jobs settled", f.jobsSettled)
			var held int
			if err := s.QueryRow(ctx, "SELECT COUNT(*) FROM early_deliveries").Scan(&held); err != nil {
				t.Fatal(err)
			}
			got := f.lastOutbound(r.ContactID)
			if got.Status != store.OutDelivered {
				t.Fatalf("message status %q (external id %s), %d callback(s) still held: the provider said delivered", got.Status, got.ExternalID, held)
			}
		})
	}
}

// A callback held for a reply whose sender recorded the provider's id but stopped before it
// took the hold is applied by the sweep; one for an id nobody recorded stays held.
func TestSweepAppliesHeldDeliveryOfARecordedReply(t *testing.T) {
	for _, k := range storetest.Dialects {
		t.Run(string(k), func(t *testing.T) {
			s := storetest.Open(t, k)
			f := newFixture(t, s)
			ctx := context.Background()
			op := f.user("op", store.RoleOperator)
			r := f.text(mobile, "+39055055", "la ZTL è attiva oggi?")
			if _, err := f.d.Reply(ctx, op, r.ContactID, "Sì, fino alle 19:30."); err != nil {
				t.Fatal(err)
			}
			f.waitFor("sent", func() bool { return f.lastOutbound(r.ContactID).ExternalID != "" })
			f.waitFor("jobs settled", f.jobsSettled)
			sid := f.lastOutbound(r.ContactID).ExternalID
			err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				_, err := tx.Exec(ctx, "INSERT INTO early_deliveries (channel, external_id, status, error, at) VALUES ('sms', ?, 'delivered', '', ?), ('sms', 'SMnobody', 'delivered', '', ?)",
					sid, store.Micros(time.Now()), store.Micros(time.Now()))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.d.ApplyHeldDeliveries(ctx); err != nil {
				t.Fatal(err)
			}
			if got := f.lastOutbound(r.ContactID); got.Status != store.OutDelivered {
				t.Fatalf("message status %q, want the held callback applied", got.Status)
			}
			var held int
			if err := s.QueryRow(ctx, "SELECT COUNT(*) FROM early_deliveries").Scan(&held); err != nil || held != 1 {
				t.Fatalf("%d callbacks held, want the one nobody recorded (%v)", held, err)
			}
		})
	}
}
