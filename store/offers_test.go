package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// offerRig is a store with one operator and helpers to put calls in their hands.
type offerRig struct {
	t   *testing.T
	s   *store.Store
	ctx context.Context
	n   int
}

func newOfferRig(t *testing.T, s *store.Store, operators ...string) *offerRig {
	t.Helper()
	r := &offerRig{t: t, s: s, ctx: context.Background()}
	for _, name := range operators {
		if _, err := s.CreateUser(r.ctx, store.User{Username: name, Role: store.RoleOperator, PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// call stores a Twilio call in the given status and returns its contact id and CallSid.
func (r *offerRig) call(status string) (string, string) {
	r.t.Helper()
	r.n++
	sid := fmt.Sprintf("CA%032d", r.n)
	res, err := r.s.Ingest(r.ctx, store.IngestRequest{In: channels.InboundMessage{Channel: channels.Phone, ExternalID: sid,
		From: fmt.Sprintf("+39347%07d", r.n), To: "+39055055", Call: &channels.Call{Status: status}, ReceivedAt: r.s.Now()}})
	if err != nil {
		r.t.Fatal(err)
	}
	return res.ContactID, sid
}

func (r *offerRig) assign(contactID, username string) {
	r.t.Helper()
	if err := r.s.WriteAlone(r.ctx, func(ctx context.Context, tx *store.Tx) error {
		ok, err := r.s.AssignTx(ctx, tx, contactID, username, true, r.s.Now())
		if err == nil && !ok {
			err = errors.New("not assigned")
		}
		return err
	}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *offerRig) offer(contactID, username string) string {
	r.t.Helper()
	name, err := r.s.MarkCallOffered(r.ctx, contactID, username)
	if err != nil || name == "" {
		r.t.Fatalf("offering %s to %s: %q %v", contactID, username, name, err)
	}
	return name
}

func (r *offerRig) live(contactID string) store.LiveCall {
	r.t.Helper()
	lc, err := r.s.LiveCallOf(r.ctx, contactID)
	if err != nil {
		r.t.Fatal(err)
	}
	return lc
}

func (r *offerRig) stale(age time.Duration) []string {
	r.t.Helper()
	list, err := r.s.StaleOffers(r.ctx, age, 100)
	if err != nil {
		r.t.Fatal(err)
	}
	var ids []string
	for _, so := range list {
		ids = append(ids, so.ContactID)
	}
	return ids
}

func (r *offerRig) expire(contactID, operator string, age time.Duration) bool {
	r.t.Helper()
	done := false
	if err := r.s.WriteAlone(r.ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		done, err = r.s.ExpireOfferTx(ctx, tx, contactID, operator, age)
		return err
	}); err != nil {
		r.t.Fatal(err)
	}
	return done
}

// Marking a call offered is a compare-and-set on a queued call its operator holds; each offer
// gets a name of its own, even when the clock stands still.
func TestMarkCallOfferedNamesEachOffer(t *testing.T) {
	t.Parallel()
	frozen := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	storetest.EachWith(t, store.Options{Now: func() time.Time { return frozen }}, func(t *testing.T, s *store.Store) {
		r := newOfferRig(t, s, "anna", "bruno")
		id, _ := r.call("queued")
		if name, err := s.MarkCallOffered(r.ctx, id, "anna"); err != nil || name != "" {
			t.Fatalf("an unassigned call was marked offered: %q %v", name, err)
		}
		r.assign(id, "anna")
		if name, err := s.MarkCallOffered(r.ctx, id, "bruno"); err != nil || name != "" {
			t.Fatalf("anna's call was marked offered to bruno: %q %v", name, err)
		}
		var wg sync.WaitGroup
		names := make([]string, 4)
		for i := range names {
			wg.Go(func() {
				n, err := s.MarkCallOffered(r.ctx, id, "anna")
				if err != nil {
					t.Error(err)
				}
				names[i] = n
			})
		}
		wg.Wait()
		won := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "" })
		if len(won) != 1 {
			t.Fatalf("concurrent offers marked %q; want exactly one", names)
		}
		first := won[0]
		if lc := r.live(id); lc.Status != "offered" || lc.Offer != first {
			t.Fatalf("call %s offer %q; want offered as %q", lc.Status, lc.Offer, first)
		}
		if ok, err := s.RequeueOffer(r.ctx, id, first); err != nil || !ok {
			t.Fatalf("requeueing the offer: %v %v", ok, err)
		}
		second := r.offer(id, "anna")
		if second == first {
			t.Fatalf("two offers of one call share the name %q", first)
		}
		if ok, _ := s.RequeueOffer(r.ctx, id, first); ok {
			t.Fatal("news of the first offer requeued the second")
		}
		if ok, _ := s.RequeueOffer(r.ctx, id, "garbage"); ok {
			t.Fatal("an offer no one named requeued the call")
		}
		if lc := r.live(id); lc.Status != "offered" || lc.Offer != second {
			t.Fatalf("call %s offer %q; want still offered as %q", lc.Status, lc.Offer, second)
		}
	})
}

// An operator's answer is recorded only for the call's standing offer: an answer for an offer
// that was missed or expired, or for an older offer of the same call, is ErrStaleOffer and
// changes nothing; a repeat of the answer, or one reported after the hang-up, is taken.
func TestAnswersForStaleOffersAreRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		r := newOfferRig(t, s, "anna")
		id, sid := r.call("queued")
		r.assign(id, "anna")
		first := r.offer(id, "anna")
		if ok, err := s.RequeueOffer(r.ctx, id, first); err != nil || !ok {
			t.Fatalf("requeue: %v %v", ok, err)
		}
		answer := func(offer string) error {
			now := s.Now()
			_, err := s.UpdateCall(r.ctx, channels.Phone, sid, store.CallUpdate{Status: "in-progress", AnsweredAt: &now,
				Operator: "anna", Offer: offer})
			return err
		}
		if err := answer(first); !errors.Is(err, store.ErrStaleOffer) {
			t.Fatalf("an answer for a missed offer: %v; want ErrStaleOffer", err)
		}
		second := r.offer(id, "anna")
		if err := answer(first); !errors.Is(err, store.ErrStaleOffer) {
			t.Fatalf("an answer for an older offer: %v; want ErrStaleOffer", err)
		}
		if lc := r.live(id); lc.Status != "offered" || lc.Operator != "" {
			t.Fatalf("after stale answers: call %s answered by %q; want offered, unanswered", lc.Status, lc.Operator)
		}
		if err := answer(second); err != nil {
			t.Fatalf("the answer for the standing offer: %v", err)
		}
		if err := answer(second); err != nil {
			t.Fatalf("a repeat of the answer: %v", err)
		}
		if lc := r.live(id); lc.Status != "in-progress" || lc.Operator != "anna" {
			t.Fatalf("call %s answered by %q; want in progress, anna's", lc.Status, lc.Operator)
		}
		// A call put on hold is not taken off it by a repeated answer.
		if ok, err := s.SetCallStatusIf(r.ctx, id, "in-progress", "on-hold"); err != nil || !ok {
			t.Fatalf("hold: %v %v", ok, err)
		}
		if err := answer(second); !errors.Is(err, store.ErrStaleOffer) {
			t.Fatalf("a repeated answer on hold: %v; want ErrStaleOffer", err)
		}
		if lc := r.live(id); lc.Status != "on-hold" {
			t.Fatalf("call %s; want on-hold", lc.Status)
		}
		// Without an offer's name (a PBX, an offer made before names) nothing is checked.
		if err := answer(""); err != nil {
			t.Fatalf("an answer without an offer: %v", err)
		}
	})
}

// The sweep's view: calls assigned and offered, or assigned and queued, past the age are stale;
// fresh ones, answered, on hold, ended, unassigned or still in the menu are not. Expiring
// re-checks all of it, so a second sweep (or a replica's) finds nothing to do.
func TestStaleOffersAndTheirExpiry(t *testing.T) {
	t.Parallel()
	clk := &storetest.Clock{}
	storetest.EachWith(t, store.Options{Now: clk.Now}, func(t *testing.T, s *store.Store) {
		r := newOfferRig(t, s, "anna", "bruno", "carla", "dario", "elena", "fabio")
		const age = time.Minute
		offered, _ := r.call("queued")
		r.assign(offered, "anna")
		r.offer(offered, "anna")
		neverOffered, _ := r.call("queued")
		r.assign(neverOffered, "bruno")
		answered, answeredSid := r.call("queued")
		r.assign(answered, "carla")
		carlas := r.offer(answered, "carla")
		now := s.Now()
		if _, err := s.UpdateCall(r.ctx, channels.Phone, answeredSid, store.CallUpdate{Status: "in-progress", AnsweredAt: &now,
			Operator: "carla", Offer: carlas}); err != nil {
			t.Fatal(err)
		}
		ended, endedSid := r.call("queued")
		r.assign(ended, "dario")
		r.offer(ended, "dario")
		if _, err := s.UpdateCall(r.ctx, channels.Phone, endedSid, store.CallUpdate{Status: "completed", EndedAt: &now}); err != nil {
			t.Fatal(err)
		}
		inMenu, _ := r.call("ringing")
		r.assign(inMenu, "elena")
		r.call("queued") // waiting, nobody's
		if got := r.stale(age); len(got) != 0 {
			t.Fatalf("fresh offers are stale: %v", got)
		}
		clk.Advance(age + time.Second)
		fresh, _ := r.call("queued")
		r.assign(fresh, "fabio")
		r.offer(fresh, "fabio")
		if got, want := r.stale(age), []string{offered, neverOffered}; !slices.Equal(got, want) {
			t.Fatalf("stale %v; want %v (offered, then never offered)", got, want)
		}
		if list, _ := s.StaleOffers(r.ctx, age, 1); len(list) != 1 || list[0].ContactID != offered || !list[0].Offered {
			t.Fatalf("bounded to 1: %+v", list)
		}
		if r.expire(offered, "bruno", age) {
			t.Fatal("anna's offer expired as bruno's")
		}
		if r.expire(fresh, "fabio", age) || r.expire(answered, "carla", age) || r.expire(ended, "dario", age) ||
			r.expire(inMenu, "elena", age) {
			t.Fatal("a call that is not stale expired")
		}
		if !r.expire(offered, "anna", age) || !r.expire(neverOffered, "bruno", age) {
			t.Fatal("a stale call did not expire")
		}
		if r.expire(offered, "anna", age) {
			t.Fatal("an offer expired twice")
		}
		if lc := r.live(offered); lc.Status != "queued" || lc.Assignee != "anna" {
			t.Fatalf("expired call %s held by %q; want queued, the assignment left to the caller", lc.Status, lc.Assignee)
		}
	})
}

// Calls offered before offers had a time (call_offered_at NULL) go by their last change.
func TestOffersWithoutATimeGoByTheirLastChange(t *testing.T) {
	t.Parallel()
	clk := &storetest.Clock{}
	storetest.EachWith(t, store.Options{Now: clk.Now}, func(t *testing.T, s *store.Store) {
		r := newOfferRig(t, s, "anna")
		id, _ := r.call("queued")
		r.assign(id, "anna")
		if ok, err := s.SetCallStatusIf(r.ctx, id, "queued", "offered"); err != nil || !ok {
			t.Fatalf("legacy offer: %v %v", ok, err)
		}
		if got := r.stale(time.Minute); len(got) != 0 {
			t.Fatalf("a fresh legacy offer is stale: %v", got)
		}
		clk.Advance(2 * time.Minute)
		if got := r.stale(time.Minute); !slices.Equal(got, []string{id}) {
			t.Fatalf("stale %v; want the legacy offer", got)
		}
		if !r.expire(id, "anna", time.Minute) {
			t.Fatal("the legacy offer did not expire")
		}
	})
}
