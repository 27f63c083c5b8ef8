package desk_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// lossyProvider is an SMS provider whose answers can be lost: it keeps what it accepted, as
// Twilio's message list does, and the first `lose` accepted sends answer with a timeout.
type lossyProvider struct {
	mu       sync.Mutex
	accepted []providerRecord
	calls    int
	lose     int
	// down makes the message list unavailable.
	down bool
}

type providerRecord struct {
	sid, to, body string
	at            time.Time
}

func (p *lossyProvider) Send(_ context.Context, m channels.OutboundMessage) (channels.SendResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	sid := fmt.Sprintf("SM%032d", len(p.accepted)+1)
	p.accepted = append(p.accepted, providerRecord{sid: sid, to: m.To, body: m.Body, at: time.Now()})
	if p.lose > 0 {
		p.lose--
		return channels.SendResult{}, &channels.SendError{Message: "timeout awaiting response headers", Err: context.DeadlineExceeded}
	}
	return channels.SendResult{ExternalID: sid, Status: "queued"}, nil
}

func (p *lossyProvider) FindSent(_ context.Context, to, body string, since time.Time) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return nil, errors.New("message list unavailable")
	}
	var out []string
	for i := len(p.accepted) - 1; i >= 0; i-- {
		r := p.accepted[i]
		if r.to == to && r.body == body && !r.at.Before(since.Add(-30*time.Second)) {
			out = append(out, r.sid)
		}
	}
	return out, nil
}

func (p *lossyProvider) counts() (calls, accepted int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls, len(p.accepted)
}

func (p *lossyProvider) setDown(down bool) { p.mu.Lock(); p.down = down; p.mu.Unlock() }

// A reply whose send reached the provider but whose answer was lost (a timeout, a crash, a
// shutdown that cancelled it) is not sent again: the retry asks the provider first and records
// the message it already holds. A later reply with the same text still goes out, and while
// the provider cannot be asked, nothing is resent.
func TestInterruptedReplyIsSettledNotResent(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, store.SQLite)
	p := &lossyProvider{lose: 1}
	f := newFixture(t, s, func(o *desk.Options) { o.Lookup = p })
	f.senders[channels.SMS] = p
	ctx := context.Background()
	op := f.user("op", store.RoleOperator)
	r := f.text(mobile, "+39055055", "la ZTL è attiva oggi?")

	if _, err := f.d.Reply(ctx, op, r.ContactID, "Sì, fino alle 19:30."); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the interrupted reply to be settled", func() bool { return f.lastOutbound(r.ContactID).Status == store.OutSent })
	got := f.lastOutbound(r.ContactID)
	if calls, accepted := p.counts(); calls != 1 || accepted != 1 || got.ExternalID != p.accepted[0].sid {
		t.Fatalf("after the lost answer: %d sends, %d accepted, recorded %q; want one send, settled with %q", calls, accepted, got.ExternalID, p.accepted[0].sid)
	}

	// The same text again, on purpose: the provider's earlier message is already ours.
	p.mu.Lock()
	p.lose = 1
	p.mu.Unlock()
	p.setDown(true)
	if _, err := f.d.Reply(ctx, op, r.ContactID, "Sì, fino alle 19:30."); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the first attempt of the second reply", func() bool { c, _ := p.counts(); return c == 2 })
	f.waitFor("a retry that cannot ask the provider", func() bool {
		m := f.lastOutbound(r.ContactID)
		return m.Status == store.OutQueued && m.Error != "" && m.Error != "retrying: send failed: timeout awaiting response headers"
	})
	if calls, _ := p.counts(); calls != 2 {
		t.Fatalf("%d sends while the provider could not be asked, want 2 (no blind resend)", calls)
	}
	p.setDown(false)
	f.waitFor("the second reply to be settled", func() bool { return f.lastOutbound(r.ContactID).Status == store.OutSent })
	got = f.lastOutbound(r.ContactID)
	if calls, accepted := p.counts(); calls != 2 || accepted != 2 || got.ExternalID != p.accepted[1].sid {
		t.Fatalf("second reply: %d sends, %d accepted, recorded %q, want %q", calls, accepted, got.ExternalID, p.accepted[1].sid)
	}
}
