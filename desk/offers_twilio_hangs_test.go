package desk_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// hangingConnector is Twilio's REST API hanging: every offer waits until its context ends and
// then fails as the adapter reports a request sent and never answered.
type hangingConnector struct {
	recordingConnector
	mu       sync.Mutex
	attempts []string
}

func (c *hangingConnector) Offer(ctx context.Context, _, _, username, _, _ string) error {
	c.mu.Lock()
	c.attempts = append(c.attempts, username)
	c.mu.Unlock()
	<-ctx.Done()
	return fmt.Errorf("twilio: %w: %w", channels.ErrOutcomeUnknown, context.Cause(ctx))
}

func (c *hangingConnector) tried() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.attempts)
}

// While Twilio hangs, one sweep of expired offers holds RunSLA's round for its budget and one
// more offer at most, not for an offer's request timeout once per expired call: the calls it
// did not reach stay as they were and the next sweep takes them.
func TestExpirySweepWhileTwilioHangsKeepsToItsBudget(t *testing.T) {
	t.Parallel()
	const (
		stale   = 20
		request = 250 * time.Millisecond
		budget  = 250 * time.Millisecond
		// Without the budget the sweep would take stale × request (5 s); the bound leaves room
		// for a loaded CI machine's database work (up to 0.1 s an expiry on PostgreSQL here).
		bound = 2500 * time.Millisecond
	)
	expiryStore(t, func(t *testing.T, s *store.Store, clk *storetest.Clock) {
		ctx := context.Background()
		f := newFixture(t, s)
		var ids []string
		for i := range stale {
			// No connector yet: each call is assigned to its operator and never dialled (a dead replica).
			f.availableOperator(fmt.Sprintf("op%02d", i))
			sid := callSid()
			id := f.ringingCall(sid, fmt.Sprintf("+3934710002%02d", i))
			f.queueCall(sid, id)
			ids = append(ids, id)
		}
		calls := &hangingConnector{}
		f.d.SetCallConnector(calls)
		f.d.ShortenOfferTimeouts(request, budget)
		clk.Advance(pastDeadline)
		began := time.Now()
		first, err := f.d.ExpireOffers(ctx)
		took := time.Since(began)
		if err != nil {
			t.Fatal(err)
		}
		if took > bound {
			t.Fatalf("the sweep held the round %s while Twilio hung (%d offers tried); want under %s", took, len(calls.tried()), bound)
		}
		if len(first) == 0 || len(first) >= stale {
			t.Fatalf("the sweep took back %d of %d calls; want some, and the rest left to the next sweep", len(first), stale)
		}
		left := 0
		for _, id := range ids {
			lc := f.liveCall(id)
			if slices.Contains(first, id) {
				// Twilio may be ringing the next operator: the offer stands.
				if lc.Status != "offered" || lc.Assignee == "" {
					t.Errorf("expired call %s held by %q; want offered to the next operator", lc.Status, lc.Assignee)
				}
				continue
			}
			if lc.Status != "queued" || lc.Assignee == "" {
				t.Errorf("a call the sweep did not reach is %s held by %q; want still queued and assigned", lc.Status, lc.Assignee)
			}
			left++
		}
		second, err := f.d.ExpireOffers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(second) == 0 || slices.ContainsFunc(second, func(id string) bool { return slices.Contains(first, id) }) {
			t.Fatalf("the next sweep took back %v after %v; want more of the %d left", second, first, left)
		}
	})
}

// An offer whose request got no answer (Twilio timed out, or the connection broke after
// sending) may be ringing the operator: it stands, offered to them, and nobody else is dialled
// until ExpireOffers takes it back at its deadline. (An offer Twilio refused goes to the next
// operator at once: TestFailedOfferGoesToTheNextOperator.)
func TestOfferWithAnUnknownOutcomeStandsUntilItsDeadline(t *testing.T) {
	t.Parallel()
	expiryStore(t, func(t *testing.T, s *store.Store, clk *storetest.Clock) {
		f, calls := newCallFixture(t, s)
		f.availableOperator("anna")
		f.availableOperator("bruno")
		calls.mu.Lock()
		calls.failures, calls.failWith = 1, fmt.Errorf("twilio: %w: %w", channels.ErrOutcomeUnknown, context.DeadlineExceeded)
		calls.mu.Unlock()
		sid := callSid()
		id := f.ringingCall(sid, "+393471000301")
		f.queueCall(sid, id)
		first := f.liveCall(id)
		if got := calls.tried(); len(got) != 1 || first.Status != "offered" || first.Assignee != got[0] || first.Offer == "" {
			t.Fatalf("offers tried %v, call %s held by %q (offer %q); want one, standing", got, first.Status, first.Assignee, first.Offer)
		}
		if _, err := f.d.Drain(context.Background(), ""); err != nil {
			t.Fatal(err)
		}
		clk.Advance(withinDeadline)
		if ids := f.expire(); len(ids) != 0 || len(calls.tried()) != 1 {
			t.Fatalf("within the deadline: expired %v, offers %v; want the first offer alone", ids, calls.tried())
		}
		clk.Advance(pastDeadline - withinDeadline)
		if ids := f.expire(); !slices.Equal(ids, []string{id}) {
			t.Fatalf("past the deadline expired %v; want the call", ids)
		}
		if lc := f.liveCall(id); lc.Status != "offered" || lc.Offer == first.Offer || len(calls.taken()) != 1 {
			t.Fatalf("after the deadline: call %s (offer %q), offers taken %v; want offered again", lc.Status, lc.Offer, calls.taken())
		}
		f.assertUnassignAudited(id, first.Assignee, "offer expired")

	})
}
