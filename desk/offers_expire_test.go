package desk_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// With the default voice.ring_seconds (20) an offer expires 78 s after it was made: 10 s for
// the REST request, 20 s of ringing, 18 s of whisper, 30 s for the callbacks' delivery.
const (
	withinDeadline = 70 * time.Second
	pastDeadline   = 80 * time.Second
)

// expiryStore runs f on both databases with a store whose clock the test moves past the offer
// deadline.
func expiryStore(t *testing.T, f func(t *testing.T, s *store.Store, clk *storetest.Clock)) {
	clk := &storetest.Clock{}
	storetest.EachWith(t, store.Options{Now: clk.Now}, func(t *testing.T, s *store.Store) { f(t, s, clk) })
}

func (f *fixture) expire() []string {
	f.t.Helper()
	ids, err := f.d.ExpireOffers(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return ids
}

func (f *fixture) presenceOf(username string) string {
	f.t.Helper()
	ops, err := f.s.Operators(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	for _, o := range ops {
		if o.Username == username {
			return o.Presence
		}
	}
	f.t.Fatalf("no operator %s", username)
	return ""
}

// expiredAudits counts the system's "offer expired" entries of a contact.
func (f *fixture) expiredAudits(contactID string) int {
	f.t.Helper()
	log, _, err := f.s.AuditLog(context.Background(), store.AuditFilter{ContactID: contactID})
	if err != nil {
		f.t.Fatal(err)
	}
	n := 0
	for _, e := range log {
		if e.Action == store.AuditUnassign && e.Actor == store.AuditSystem && strings.Contains(e.Detail, "offer expired") {
			n++
		}
	}
	return n
}

// queuedToAnnaUndialled: a call from the menu to the queue, assigned to anna, on a desk with no
// connector yet (so nothing dials it: a replica that died before offerCall).
func queuedToAnnaUndialled(t *testing.T, f *fixture, from string) (sid, id string) {
	t.Helper()
	sid = callSid()
	id = f.ringingCall(sid, from)
	f.queueCall(sid, id)
	if lc := f.liveCall(id); lc.Assignee != "anna" || lc.Status != "queued" {
		t.Fatalf("precondition: the call is queued and anna's, not %s and %q's", lc.Status, lc.Assignee)
	}
	return sid, id
}

// A replica that marked a call offered and died before asking Twilio to dial (the REST call
// never made, or hung until the process ended) left it offered and anna's: nothing offered it
// again and anna counted as on a call. Once no callback about the offer can still come, the
// sweep takes the call back (audited), offers it to the next free operator, and leaves anna
// available (her phone may never have rung). Before then the offer is left alone.
func TestOfferLeftByADeadReplicaGoesToTheNextOperator(t *testing.T) {
	t.Parallel()
	expiryStore(t, func(t *testing.T, s *store.Store, clk *storetest.Clock) {
		ctx := context.Background()
		f := newFixture(t, s)
		f.availableOperator("anna")
		_, id := queuedToAnnaUndialled(t, f, "+393471000101")
		// What the dying replica did: marked the call, and never called Offer.
		if name, err := s.MarkCallOffered(ctx, id, "anna"); err != nil || name == "" {
			t.Fatalf("marking the call offered: %q %v", name, err)
		}
		calls := &offerConnector{}
		f.d.SetCallConnector(calls)
		f.availableOperator("bruno")
		if ops, _ := s.Operators(ctx); !slices.ContainsFunc(ops, func(o store.OperatorState) bool { return o.Username == "anna" && o.OnCall }) {
			t.Fatal("precondition: anna counts as on a call")
		}
		if _, err := f.d.Drain(ctx, ""); err != nil || len(calls.tried()) > 0 {
			t.Fatalf("the drain offered the call (%v, %v): it hands out only unassigned work", calls.tried(), err)
		}
		clk.Advance(withinDeadline)
		if ids := f.expire(); len(ids) != 0 {
			t.Fatalf("an offer within its deadline expired: %v", ids)
		}
		if lc := f.liveCall(id); lc.Status != "offered" || lc.Assignee != "anna" {
			t.Fatalf("within the deadline: call %s held by %q; want offered to anna", lc.Status, lc.Assignee)
		}
		sub, stop := f.hub.Subscribe(64)
		defer stop()
		clk.Advance(pastDeadline - withinDeadline)
		if ids := f.expire(); !slices.Equal(ids, []string{id}) {
			t.Fatalf("expired %v; want the call", ids)
		}
		if lc := f.liveCall(id); lc.Status != "offered" || lc.Assignee != "bruno" || !slices.Equal(calls.taken(), []string{"bruno"}) {
			t.Fatalf("after the sweep: call %s held by %q, offers %v; want offered to bruno", lc.Status, lc.Assignee, calls.taken())
		}
		f.assertUnassignAudited(id, "anna", "offer expired")
		if p := f.presenceOf("anna"); p != "available" {
			t.Fatalf("anna is %s; an expired offer does not turn her away", p)
		}
		seen := map[string]bool{}
		for len(sub) > 0 {
			if e := <-sub; e.ContactID == id || e.Type == "queue.changed" {
				seen[e.Type] = true
			}
		}
		if !seen["queue.changed"] || !seen["contact.updated"] {
			t.Fatalf("live events %v; want the contact's update and the queue's change", seen)
		}
		if ids := f.expire(); len(ids) != 0 {
			t.Fatalf("bruno's fresh offer expired: %v", ids)
		}
	})
}

// A call assigned while queued whose offer never started (a crash between the assignment's
// commit and offerCall) is never offered again otherwise: the drain skips assigned work and
// the queue's webhook came once. The sweep offers it to the next operator too.
func TestQueuedCallAssignedButNeverDialledGoesToTheNextOperator(t *testing.T) {
	t.Parallel()
	expiryStore(t, func(t *testing.T, s *store.Store, clk *storetest.Clock) {
		f := newFixture(t, s)
		f.availableOperator("anna")
		_, id := queuedToAnnaUndialled(t, f, "+393471000102")
		calls := &offerConnector{}
		f.d.SetCallConnector(calls)
		f.availableOperator("bruno")
		clk.Advance(withinDeadline)
		if ids := f.expire(); len(ids) != 0 {
			t.Fatalf("expired within the deadline: %v", ids)
		}
		clk.Advance(pastDeadline - withinDeadline)
		if ids := f.expire(); !slices.Equal(ids, []string{id}) {
			t.Fatalf("expired %v; want the call", ids)
		}
		if lc := f.liveCall(id); lc.Status != "offered" || lc.Assignee != "bruno" {
			t.Fatalf("call %s held by %q; want offered to bruno", lc.Status, lc.Assignee)
		}
		f.assertUnassignAudited(id, "anna", "offer expired: assigned and not dialled")
	})
}

// Calls answered, on hold or ended are never touched by the sweep, however old their offer.
func TestExpiryLeavesAnsweredHeldAndEndedCallsAlone(t *testing.T) {
	t.Parallel()
	expiryStore(t, func(t *testing.T, s *store.Store, clk *storetest.Clock) {
		ctx := context.Background()
		f, calls := newCallFixture(t, s)
		f.availableOperator("anna")
		answered := callSid()
		answeredID := f.ringingCall(answered, "+393471000103")
		f.queueCall(answered, answeredID)
		f.answerCall(answered, "anna")
		bruno := f.availableOperator("bruno")
		held := callSid()
		heldID := f.ringingCall(held, "+393471000104")
		f.queueCall(held, heldID)
		f.answerCall(held, "bruno")
		if err := f.d.Hold(ctx, bruno, heldID, true); err != nil {
			t.Fatal(err)
		}
		f.availableOperator("carla")
		ended := callSid()
		endedID := f.ringingCall(ended, "+393471000105")
		f.queueCall(ended, endedID)
		now := f.clock.Now()
		if _, err := f.in.UpdateCall(ctx, channels.Phone, ended, channels.CallEvent{Status: "completed", EndedAt: &now}); err != nil {
			t.Fatal(err)
		}
		before := calls.tried()
		f.availableOperator("dario") // someone the sweep could give the calls to
		clk.Advance(10 * pastDeadline)
		if ids := f.expire(); len(ids) != 0 {
			t.Fatalf("the sweep expired %v", ids)
		}
		for id, want := range map[string]string{answeredID: "in-progress anna", heldID: "on-hold bruno", endedID: "completed carla"} {
			if lc := f.liveCall(id); lc.Status+" "+lc.Assignee != want {
				t.Errorf("call %s held by %q; want %s", lc.Status, lc.Assignee, want)
			}
		}
		if got := calls.tried(); !slices.Equal(got, before) {
			t.Fatalf("offers %v after the sweep; want still %v", got, before)
		}
	})
}

// Two replicas sweeping at once: one takes the call back and offers it once.
func TestTwoDesksExpireAnOfferOnce(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects {
		t.Run(strings.ToLower(string(d)), func(t *testing.T) {
			ctx := context.Background()
			clk := &storetest.Clock{}
			s1, dbURL := storetest.OpenURLWith(t, d, store.Options{Now: clk.Now})
			s2 := s1
			if d == store.Postgres {
				var err error
				if s2, err = store.Open(ctx, store.Options{URL: dbURL, Now: clk.Now}); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					if err := s2.Close(); err != nil {
						t.Error(err)
					}
				})
			}
			f1, f2 := newFixture(t, s1), newFixture(t, s2)
			f1.availableOperator("anna")
			_, id := queuedToAnnaUndialled(t, f1, "+393471000106")
			if name, err := s1.MarkCallOffered(ctx, id, "anna"); err != nil || name == "" {
				t.Fatalf("marking: %q %v", name, err)
			}
			c1, c2 := &offerConnector{}, &offerConnector{}
			f1.d.SetCallConnector(c1)
			f2.d.SetCallConnector(c2)
			f1.availableOperator("bruno")
			clk.Advance(pastDeadline)
			var wg sync.WaitGroup
			start := make(chan struct{})
			expired := make([][]string, 2)
			for i, dk := range []*desk.Desk{f1.d, f2.d} {
				wg.Go(func() {
					<-start
					ids, err := dk.ExpireOffers(ctx)
					if err != nil {
						t.Error(err)
					}
					expired[i] = ids
				})
			}
			close(start)
			wg.Wait()
			if n := len(expired[0]) + len(expired[1]); n != 1 {
				t.Fatalf("the desks expired %v and %v; want the call once", expired[0], expired[1])
			}
			offers := append(c1.taken(), c2.taken()...)
			if !slices.Equal(offers, []string{"bruno"}) {
				t.Fatalf("offers %v; want bruno once", offers)
			}
			if n := f1.expiredAudits(id); n != 1 {
				t.Fatalf("%d audited expiries; want 1", n)
			}
		})
	}
}

// News about an offer that expired comes too late to matter: after the sweep gave the call to
// bruno, anna's <Dial action> (no answer) neither requeues the call nor turns anna away, and
// her leg's answer is refused; bruno's own news still counts.
func TestLateNewsOfAnExpiredOfferChangesNothing(t *testing.T) {
	t.Parallel()
	expiryStore(t, func(t *testing.T, s *store.Store, clk *storetest.Clock) {
		ctx := context.Background()
		f, calls := newCallFixture(t, s)
		f.availableOperator("anna")
		sid := callSid()
		id := f.ringingCall(sid, "+393471000107")
		f.queueCall(sid, id)
		annas := calls.lastName()
		f.availableOperator("bruno")
		clk.Advance(pastDeadline)
		if ids := f.expire(); !slices.Equal(ids, []string{id}) {
			t.Fatalf("expired %v", ids)
		}
		brunos := calls.lastName()
		if brunos == annas || !slices.Equal(calls.taken(), []string{"anna", "bruno"}) {
			t.Fatalf("offers %v named %q then %q; want anna then bruno, two names", calls.taken(), annas, brunos)
		}
		if missed, err := f.d.CallMissed(ctx, id, "anna", annas); err != nil || missed {
			t.Fatalf("anna's late <Dial action>: missed=%v %v; want ignored", missed, err)
		}
		now := f.clock.Now()
		_, err := f.in.UpdateCall(ctx, channels.Phone, sid, channels.CallEvent{Status: "in-progress", AnsweredAt: &now,
			Operator: "anna", Offer: annas})
		if !errors.Is(err, channels.ErrStaleOffer) {
			t.Fatalf("anna's late answer: %v; want ErrStaleOffer", err)
		}
		if who, err := f.d.CallAnsweredBy(ctx, id, annas); err != nil || who != "" {
			t.Fatalf("answered under anna's offer by %q %v", who, err)
		}
		if lc := f.liveCall(id); lc.Status != "offered" || lc.Assignee != "bruno" || lc.Operator != "" || lc.Offer != brunos {
			t.Fatalf("after the late news: call %s held by %q answered by %q offer %q; want offered to bruno as %q",
				lc.Status, lc.Assignee, lc.Operator, lc.Offer, brunos)
		}
		if p := f.presenceOf("anna"); p != "available" {
			t.Fatalf("anna is %s after late news of an offer the sweep took back", p)
		}
		if _, err := f.in.UpdateCall(ctx, channels.Phone, sid, channels.CallEvent{Status: "in-progress", AnsweredAt: &now,
			Operator: "bruno", Offer: brunos}); err != nil {
			t.Fatalf("bruno's answer: %v", err)
		}
		if who, _ := f.d.CallAnsweredBy(ctx, id, brunos); who != "bruno" {
			t.Fatalf("answered by %q; want bruno", who)
		}
	})
}

// When the sweep offers the call to the same operator again (the only one free), the late
// <Dial action> of the first offer must not cancel the second; the second's own does.
func TestLateNewsOfAnExpiredOfferSparesTheSameOperatorsNextOffer(t *testing.T) {
	t.Parallel()
	expiryStore(t, func(t *testing.T, s *store.Store, clk *storetest.Clock) {
		ctx := context.Background()
		f, calls := newCallFixture(t, s)
		f.availableOperator("anna")
		sid := callSid()
		id := f.ringingCall(sid, "+393471000108")
		f.queueCall(sid, id)
		first := calls.lastName()
		clk.Advance(pastDeadline)
		if ids := f.expire(); !slices.Equal(ids, []string{id}) {
			t.Fatalf("expired %v", ids)
		}
		second := calls.lastName()
		if !slices.Equal(calls.taken(), []string{"anna", "anna"}) || second == first {
			t.Fatalf("offers %v named %q, %q; want anna twice, two names", calls.taken(), first, second)
		}
		if missed, err := f.d.CallMissed(ctx, id, "anna", first); err != nil || missed {
			t.Fatalf("the first offer's late <Dial action>: missed=%v %v; want ignored", missed, err)
		}
		if lc := f.liveCall(id); lc.Status != "offered" || lc.Assignee != "anna" || f.presenceOf("anna") != "available" {
			t.Fatalf("call %s held by %q, anna %s; want still offered to anna, available", lc.Status, lc.Assignee, f.presenceOf("anna"))
		}
		if missed, err := f.d.CallMissed(ctx, id, "anna", second); err != nil || !missed {
			t.Fatalf("the second offer's <Dial action>: missed=%v %v; want taken", missed, err)
		}
		if lc := f.liveCall(id); lc.Status != "queued" || lc.Assignee != "" || f.presenceOf("anna") != "away" {
			t.Fatalf("call %s held by %q, anna %s; want queued, nobody's, anna away", lc.Status, lc.Assignee, f.presenceOf("anna"))
		}
	})
}

// An offer that expired with nobody free leaves the call waiting, nobody's: a late answer for
// it is refused (the next offer will move the caller), and the drain offers the call once
// someone is free.
func TestExpiredOfferWithNobodyFreeWaitsForTheDrain(t *testing.T) {
	t.Parallel()
	expiryStore(t, func(t *testing.T, s *store.Store, clk *storetest.Clock) {
		ctx := context.Background()
		f, calls := newCallFixture(t, s)
		anna := f.availableOperator("anna")
		sid := callSid()
		id := f.ringingCall(sid, "+393471000109")
		f.queueCall(sid, id)
		first := calls.lastName()
		if err := f.d.SetPresence(ctx, anna, "away"); err != nil { // away keeps what she holds
			t.Fatal(err)
		}
		clk.Advance(pastDeadline)
		if ids := f.expire(); !slices.Equal(ids, []string{id}) {
			t.Fatalf("expired %v", ids)
		}
		if lc := f.liveCall(id); lc.Status != "queued" || lc.Assignee != "" {
			t.Fatalf("call %s held by %q; want queued, nobody's", lc.Status, lc.Assignee)
		}
		now := f.clock.Now()
		if _, err := f.in.UpdateCall(ctx, channels.Phone, sid, channels.CallEvent{Status: "in-progress", AnsweredAt: &now,
			Operator: "anna", Offer: first}); !errors.Is(err, channels.ErrStaleOffer) {
			t.Fatalf("a late answer: %v; want ErrStaleOffer", err)
		}
		f.availableOperator("bruno")
		if lc := f.liveCall(id); lc.Status != "offered" || lc.Assignee != "bruno" {
			t.Fatalf("call %s held by %q; want offered to bruno once he is free", lc.Status, lc.Assignee)
		}
	})
}

// A caller Twilio no longer has (their hang-up's status callback was lost) is recorded gone at
// the first offer Twilio refuses, instead of going round the operators at every drain.
func TestOfferOfACallerWhoIsGoneEndsTheCall(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f, calls := newCallFixture(t, s)
		f.availableOperator("anna")
		f.availableOperator("bruno")
		calls.mu.Lock()
		calls.failures, calls.failWith = 1000, fmt.Errorf("twilio: %w: call not in progress", channels.ErrCallGone)
		calls.mu.Unlock()
		sid := callSid()
		id := f.ringingCall(sid, "+393471000110")
		f.queueCall(sid, id)
		if _, err := f.d.Drain(ctx, ""); err != nil {
			t.Fatal(err)
		}
		if got := calls.tried(); len(got) != 1 {
			t.Fatalf("offers tried %v; want one (the call is gone)", got)
		}
		if lc := f.liveCall(id); lc.Status != "completed" {
			t.Fatalf("call %s; want completed", lc.Status)
		}
		if c := f.contact(id); c.Call == nil || c.Call.Result == nil || *c.Call.Result != channels.CallAbandoned {
			t.Fatalf("call figures %+v; want abandoned", c.Call)
		}
	})
}
