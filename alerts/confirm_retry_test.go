package alerts

import (
	"context"
	"errors"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// A confirmation request whose first attempt failed after the provider accepted it (a timeout
// on the answer) is not sent again by the retry: the citizen gets one request. A retry of an
// attempt that never reached the provider does send.
func TestRetriedConfirmationIsSentOnce(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			f := newFixtureOn(t, d, 1000, 100)
			ctx := context.Background()
			if _, err := f.svc.RequestSubscription(ctx, "firenze", citizen, []string{"traffico"}, "", alertstore.ConsentActor{Via: alertstore.ViaAPI, Actor: "apikey:k1"}, RateCharge{}); err != nil {
				t.Fatal(err)
			}
			w := &ConfirmWorker{S: f.svc}
			job := func(attempt int) *river.Job[ConfirmArgs] {
				return &river.Job[ConfirmArgs]{JobRow: &rivertype.JobRow{Attempt: attempt, CreatedAt: f.clock.Now()},
					Args: ConfirmArgs{Comune: "firenze", Phone: citizen, Lang: "it"}}
			}
			timeout := errors.New("timeout awaiting the provider's answer")
			f.snd.acceptThenFail = func(string) error { return timeout }
			if err := w.Work(ctx, job(1)); !errors.Is(err, timeout) {
				t.Fatalf("first attempt: %v", err)
			}
			f.snd.acceptThenFail = nil
			if err := w.Work(ctx, job(2)); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if n := f.snd.countTo()[citizen]; n != 1 {
				t.Fatalf("the citizen got %d confirmation requests, want 1", n)
			}

			// Nothing reached the provider the first time: the retry sends.
			other := "+393479990011"
			if _, err := f.svc.RequestSubscription(ctx, "firenze", other, []string{"traffico"}, "", alertstore.ConsentActor{Via: alertstore.ViaAPI, Actor: "apikey:k1"}, RateCharge{}); err != nil {
				t.Fatal(err)
			}
			j := job(2)
			j.Args.Phone = other
			if err := w.Work(ctx, j); err != nil {
				t.Fatalf("retry of a send that never left: %v", err)
			}
			if n := f.snd.countTo()[other]; n != 1 {
				t.Fatalf("the retry sent %d requests, want 1", n)
			}
		})
	}
}
