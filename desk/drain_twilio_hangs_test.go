package desk_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// While Twilio hangs, a drain that hands queued calls to several free operators dials them
// together, not one after the other: the SLA round (or an operator coming back available) is
// held for about one offer's request timeout, not for that timeout once per call. Each offer,
// sent and never answered, stands with its operator until its deadline.
func TestDrainWhileTwilioHangsDialsItsCallsTogether(t *testing.T) {
	t.Parallel()
	const (
		calls   = 8
		request = time.Second
		// One after the other the drain would take calls × request (8 s); the bound leaves
		// room for a loaded machine's database work around the offers.
		bound = 4 * time.Second
	)
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		var ids []string
		for i := range calls {
			sid := callSid()
			id := f.ringingCall(sid, fmt.Sprintf("+3934710003%02d", i))
			f.queueCall(sid, id) // nobody is available yet: the call waits in the queue
			ids = append(ids, id)
		}
		for i := range calls {
			u := f.user(fmt.Sprintf("drain%02d", i), store.RoleOperator)
			// Available in the store alone: the desk's SetPresence would drain for each of them.
			if err := s.WriteAlone(ctx, func(ctx context.Context, tx *store.Tx) error {
				_, err := s.SetPresenceTx(ctx, tx, u.ID, "available")
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		hanging := &hangingConnector{}
		f.d.SetCallConnector(hanging)
		f.d.ShortenOfferTimeouts(request, time.Minute)
		began := time.Now()
		made, err := f.d.Drain(ctx, "")
		took := time.Since(began)
		if err != nil {
			t.Fatal(err)
		}
		if len(made) != calls {
			t.Fatalf("the drain handed out %d of %d calls", len(made), calls)
		}
		if got := len(hanging.tried()); got != calls {
			t.Fatalf("%d offers tried, want %d", got, calls)
		}
		if took > bound {
			t.Fatalf("the drain held its caller %s while Twilio hung (%d calls); want under %s", took, calls, bound)
		}
		for _, id := range ids {
			if lc := f.liveCall(id); lc.Status != "offered" || lc.Assignee == "" {
				t.Errorf("call %s is %s held by %q; want its offer standing with an operator", id, lc.Status, lc.Assignee)
			}
		}
	})
}
