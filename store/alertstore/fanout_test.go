package alertstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/store/storetest"
)

// takeover is a fan-out scene: an alert of one batch, a slow worker and a fast one (two
// replicas, both alive), and the jobs the store asked for.
type takeover struct {
	s     *alertstore.Store
	alert string
	jobs  int
	// holding never expires a lease; expired expires every lease taken so far: the two
	// moments of the scene, without waiting for a clock.
	holding, expired alertstore.Liveness
}

func newTakeover(t *testing.T, st *store.Store, subscribers int) *takeover {
	t.Helper()
	ctx := context.Background()
	tk := &takeover{s: alertstore.New(st)}
	for i := 0; i < subscribers; i++ {
		sub(t, tk.s, "firenze", fmt.Sprintf("+3934700007%02d", i))
	}
	a, err := tk.s.CreateAlert(ctx, alertstore.Alert{Comune: "firenze", Category: "altro", Message: "m", TextIT: "m", TextEN: "m", Source: "api"},
		alertstore.CreateAlertOptions{BatchSize: 100, Enqueue: tk.enqueue})
	if err != nil {
		t.Fatal(err)
	}
	tk.alert, tk.jobs = a.ID, 0
	for _, p := range []string{"slow", "fast"} {
		if err := tk.s.Heartbeat(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	tk.holding = alertstore.Liveness{StaleBefore: now.Add(-time.Minute)}
	tk.expired = alertstore.Liveness{StaleBefore: now.Add(-time.Minute), LeaseBefore: now.Add(time.Hour)}
	return tk
}

func (tk *takeover) enqueue(_ context.Context, _ *store.Tx, _ string, batches []int) error {
	tk.jobs += len(batches)
	return nil
}

// claim makes a new worker of process owner the batch's holder and claims up to n queued
// recipients for it.
func (tk *takeover) claim(t *testing.T, owner string, live alertstore.Liveness, n int) (alertstore.BatchLease, []alertstore.Recipient) {
	t.Helper()
	ctx := context.Background()
	lease, ok, err := tk.s.ClaimAlertBatch(ctx, tk.alert, 0, owner, live)
	if !ok || err != nil {
		t.Fatalf("%s cannot claim the batch: %v %v", owner, ok, err)
	}
	return lease, tk.claimMore(t, lease, n)
}

// claimMore claims up to n more queued recipients under lease.
func (tk *takeover) claimMore(t *testing.T, lease alertstore.BatchLease, n int) []alertstore.Recipient {
	t.Helper()
	ctx := context.Background()
	seqs, err := tk.s.QueuedInBatch(ctx, tk.alert, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := tk.s.ClaimRecipients(ctx, tk.alert, 0, seqs, lease)
	if err != nil || len(rs) != len(seqs) {
		t.Fatalf("%s claimed %d of %v: %v", lease.Owner, len(rs), seqs, err)
	}
	return rs
}

// record writes owner's results: the recipients in sent were accepted, the others given back
// late.
func (tk *takeover) record(t *testing.T, owner string, rs []alertstore.Recipient, sent int) {
	t.Helper()
	var results []alertstore.SendResult
	for i, r := range rs {
		res := alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeSent, SID: fmt.Sprintf("SM%s%d", owner, r.Seq)}
		if i >= sent {
			res = alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeRetry, Error: "late"}
		}
		res.ClaimedAt = r.ClaimedAt
		results = append(results, res)
	}
	if err := tk.s.RecordSendResults(context.Background(), tk.alert, 0, owner, results, tk.enqueue); err != nil {
		t.Fatal(err)
	}
}

func (tk *takeover) finish(t *testing.T, lease alertstore.BatchLease) bool {
	t.Helper()
	done, err := tk.s.FinishAlertBatch(context.Background(), tk.alert, 0, lease)
	if err != nil {
		t.Fatal(err)
	}
	return done
}

// wantAllSent checks that all n recipients were sent, none is left queued or sending, and the
// alert ended "sent".
func (tk *takeover) wantAllSent(t *testing.T, n int) {
	t.Helper()
	ctx := context.Background()
	c, err := tk.s.CountRecipients(ctx, tk.alert)
	if err != nil {
		t.Fatal(err)
	}
	if c.Sent != n || c.Queued != 0 || c.Sending != 0 {
		t.Fatalf("counts %+v, want %d sent", c, n)
	}
	a, err := tk.s.GetAlert(ctx, "", tk.alert)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != alertstore.AlertSent {
		t.Fatalf("alert %s at the end", a.Status)
	}
}

// The race of issue "faults and replicas": a slow worker loses its batch's lease, the sweep
// hands the batch on, another worker sends the rest and finishes the batch (the slow worker's
// recipients are "sending", not queued) and the alert ends "sent". Then the slow worker's late
// result gives one recipient back to the queue. Before the fix it stayed queued for ever in a
// batch marked done: nobody could claim the batch, no job was asked for, the alert counted it
// neither sent nor failed. Now the batch reopens with a job and the recipient is sent once.
func TestLateRequeueIntoAFinishedBatchReopensIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		tk := newTakeover(t, st, 4)
		_, slow := tk.claim(t, "slow", tk.holding, 2)
		// No progress for a lease: the sweep takes the batch back and gives it a job.
		if err := tk.s.ReopenAbandonedBatch(ctx, tk.alert, 0, tk.expired, tk.enqueue); err != nil || tk.jobs != 1 {
			t.Fatalf("the abandoned batch got %d jobs: %v", tk.jobs, err)
		}
		fast, rs := tk.claim(t, "fast", tk.expired, 100)
		tk.record(t, "fast", rs, 2)
		if !tk.finish(t, fast) {
			t.Fatal("the batch was not finished with nothing queued")
		}
		if a, _ := tk.s.GetAlert(ctx, "", tk.alert); a.Status != alertstore.AlertSent {
			t.Fatalf("alert %s after its only batch finished", a.Status)
		}
		// The slow worker wakes: one send went out, one was never handed over.
		tk.record(t, "slow", slow, 1)
		if tk.jobs != 2 {
			t.Fatalf("a recipient was queued again in a finished batch and %d job(s) were asked for, want 2", tk.jobs)
		}
		if a, _ := tk.s.GetAlert(ctx, "", tk.alert); a.Status != alertstore.AlertSending {
			t.Fatalf("alert %s with a recipient queued again", a.Status)
		}
		fast, again := tk.claim(t, "fast", tk.holding, 100)
		if len(again) != 1 || again[0].Seq != slow[1].Seq {
			t.Fatalf("the new job claimed %+v, want seq %d", again, slow[1].Seq)
		}
		tk.record(t, "fast", again, 1)
		if !tk.finish(t, fast) {
			t.Fatal("the reopened batch did not finish")
		}
		tk.wantAllSent(t, 4)
	})
}

// The same late result after the alert was cancelled: the recipient it gives back is
// cancelled like the rest of the queue was, and no job is asked for.
func TestLateRequeueIntoAnEndedAlertIsCancelled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		tk := newTakeover(t, st, 4)
		_, slow := tk.claim(t, "slow", tk.holding, 2)
		if _, err := tk.s.EndAlert(ctx, "", tk.alert, alertstore.AlertCancelled); err != nil {
			t.Fatal(err)
		}
		tk.record(t, "slow", slow, 1)
		c, _ := tk.s.CountRecipients(ctx, tk.alert)
		if c.Sent != 1 || c.Cancelled != 3 || c.Queued != 0 || tk.jobs != 0 {
			t.Fatalf("counts %+v and %d job(s), want 1 sent, 3 cancelled, no job", c, tk.jobs)
		}
	})
}

// Two workers of one process share an owner (the process's sender id): a stuck worker whose
// claim the orphan sweep put back in the queue, and the new job, in the same process, that
// claimed it again and is sending it. The stuck worker's late result answers its own claim,
// not the new one: before the fix it matched on the owner alone, put the recipient back in
// the queue while the new claim's send was under way, and the next chunk sent it a second time.
func TestLateResultDoesNotUndoANewerClaimOfTheSameProcess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		tk := newTakeover(t, st, 2)
		_, stuck := tk.claim(t, "slow", tk.holding, 2)
		orphans, err := tk.s.Orphans(ctx, tk.expired, time.Now().Add(time.Hour), 10)
		if err != nil || len(orphans) != 2 {
			t.Fatalf("orphans %+v %v", orphans, err)
		}
		// The provider never got the first: it is queued again and its batch reopened.
		if err := tk.s.ResolveOrphan(ctx, orphans[0], "", tk.expired, tk.enqueue); err != nil || tk.jobs != 1 {
			t.Fatalf("resolve: %d job(s) %v", tk.jobs, err)
		}
		lease, fresh := tk.claim(t, "slow", tk.holding, 10)
		if len(fresh) != 1 || fresh[0].Seq != orphans[0].Seq {
			t.Fatalf("the new job claimed %+v, want seq %d", fresh, orphans[0].Seq)
		}
		// The stuck worker wakes and gives both of its claims back, late.
		tk.record(t, "slow", stuck, 0)
		seqs, err := tk.s.QueuedInBatch(ctx, tk.alert, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range seqs {
			if q == fresh[0].Seq {
				t.Fatalf("seq %d is queued again while the newer claim sends it: it would go out twice", q)
			}
		}
		tk.record(t, "slow", fresh, 1)
		tk.record(t, "slow", tk.claimMore(t, lease, 10), 1)
		if !tk.finish(t, lease) {
			t.Fatal("the batch did not finish")
		}
		c, _ := tk.s.CountRecipients(ctx, tk.alert)
		if c.Sent != 2 || c.Queued != 0 || c.Sending != 0 {
			t.Fatalf("counts %+v, want 2 sent", c)
		}
	})
}

// Two workers of one process: River ran a batch's job again while its first run still works
// the batch (a rescued or re-enqueued job). The process is alive and the batch made progress
// lately, so the second claim fails. Once the first worker makes no progress for a lease, the
// second takes the batch over, and from then on the first, of the same process, can neither
// renew, claim, release nor finish it: only its own claims' results are still written.
func TestSecondWorkerOfTheSameProcessCannotClaimAHeldBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		tk := newTakeover(t, st, 4)
		first, firstClaim := tk.claim(t, "slow", tk.holding, 1)
		if _, ok, err := tk.s.ClaimAlertBatch(ctx, tk.alert, 0, "slow", tk.holding); ok || err != nil {
			t.Fatalf("a second worker of the same process claimed a batch the first one holds: %v %v", ok, err)
		}
		if held, err := tk.s.RenewBatchLease(ctx, tk.alert, 0, first); !held || err != nil {
			t.Fatalf("the refused claim took the lease from its holder: %v %v", held, err)
		}

		second, rest := tk.claim(t, "slow", tk.expired, 100)
		if len(rest) != 3 {
			t.Fatalf("the worker that took the batch over claimed %d of the 3 queued", len(rest))
		}
		if held, err := tk.s.RenewBatchLease(ctx, tk.alert, 0, first); held || err != nil {
			t.Fatalf("the first worker still renews a lease taken over: %v %v", held, err)
		}
		if err := tk.s.ReleaseAlertBatch(ctx, tk.alert, 0, first); err != nil {
			t.Fatal(err)
		}
		if !tk.finish(t, first) {
			t.Fatal("with nothing queued, the first worker was told to keep going")
		}
		var status string
		var lease *string
		if err := st.QueryRow(ctx, "SELECT status, lease_id FROM alert_batches WHERE alert_id = ? AND batch = 0", tk.alert).Scan(&status, &lease); err != nil {
			t.Fatal(err)
		}
		if status != "running" || lease == nil || *lease != second.ID {
			t.Fatalf("the first worker's release or finish moved a batch the second holds: %s, lease %v", status, lease)
		}
		if _, err := tk.s.ClaimRecipients(ctx, tk.alert, 0, []int64{rest[0].Seq}, first); !errors.Is(err, alertstore.ErrLeaseLost) {
			t.Fatalf("a worker whose lease was taken over may still claim: %v", err)
		}

		tk.record(t, "slow", firstClaim, 1)
		tk.record(t, "slow", rest, 3)
		if !tk.finish(t, second) {
			t.Fatal("the batch did not finish")
		}
		tk.wantAllSent(t, 4)
	})
}
