package alertstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/sportello/sportello/jobs"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/store/storetest"
)

type fanoutArgs struct {
	AlertID string `json:"alert_id"`
	Batch   int    `json:"batch"`
}

func (fanoutArgs) Kind() string { return "alert_fanout" }

// A pending batch whose River job was lost (stuck "running" after its completion failed) is
// found and enqueued again once; batches whose job waits are left alone.
func TestStrandedBatchGetsANewJobOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := jobs.Migrate(ctx, st); err != nil {
			t.Fatal(err)
		}
		jc, closeJobs, err := jobs.New(ctx, st, nil, jobs.Options{InsertOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer closeJobs()
		enq := func(ctx context.Context, tx *store.Tx, id string, batches []int) error {
			p := make([]river.InsertManyParams, len(batches))
			for i, b := range batches {
				p[i] = river.InsertManyParams{Args: fanoutArgs{AlertID: id, Batch: b}}
			}
			_, err := jc.InsertManyTx(ctx, tx.SQL(), p)
			return err
		}
		s := alertstore.New(st)
		for i := 0; i < 30; i++ {
			sub(t, s, "firenze", fmt.Sprintf("+3934700005%02d", i))
		}
		a, err := s.CreateAlert(ctx, alertstore.Alert{Comune: "firenze", Category: "altro", Message: "m", TextIT: "m", TextEN: "m", Source: "api"},
			alertstore.CreateAlertOptions{BatchSize: 10, Enqueue: enq})
		if err != nil {
			t.Fatal(err)
		}
		// Batch 1's job is stuck running: its worker's completion never reached the database.
		if err := st.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE river_job SET state = 'running' WHERE id = (SELECT MIN(id) + 1 FROM river_job WHERE kind = 'alert_fanout')")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Minute)
		got, err := s.StrandedBatches(ctx, later, 10)
		if err != nil || len(got) != 1 || got[0].Batch != 1 {
			t.Fatalf("stranded %+v %v", got, err)
		}
		if ok, err := s.RequeueStrandedBatch(ctx, a.ID, 1, later, enq); !ok || err != nil {
			t.Fatalf("requeue %v %v", ok, err)
		}
		if got, _ := s.StrandedBatches(ctx, later, 10); len(got) != 0 {
			t.Fatalf("still stranded after a new job: %+v", got)
		}
		if ok, _ := s.RequeueStrandedBatch(ctx, a.ID, 1, time.Now().Add(-time.Minute), enq); ok {
			t.Fatal("requeued twice within a lease")
		}
		var n int
		if err := st.QueryRow(ctx, "SELECT COUNT(*) FROM river_job WHERE kind = 'alert_fanout' AND state = 'available'").Scan(&n); err != nil || n != 3 {
			t.Fatalf("%d available jobs, want 3 (%v)", n, err)
		}
	})
}

// An alert without progress is marked stalled once, with a reason, on both databases; its
// progress clears the mark once.
func TestCheckStallsMarksOnceAndClears(t *testing.T) {
	clock := &storetest.Clock{}
	storetest.EachWith(t, store.Options{Now: clock.Now}, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := alertstore.New(st)
		for i := 0; i < 12; i++ {
			sub(t, s, "firenze", fmt.Sprintf("+3934700006%02d", i))
		}
		a, err := s.CreateAlert(ctx, alertstore.Alert{Comune: "firenze", Category: "altro", Message: "m", TextIT: "m", TextEN: "m", Source: "api"},
			alertstore.CreateAlertOptions{BatchSize: 10})
		if err != nil {
			t.Fatal(err)
		}
		live := alertstore.Liveness{StaleBefore: clock.Now().Add(-10 * time.Second), LeaseBefore: clock.Now().Add(-time.Minute)}
		if err := s.RecordBatchError(ctx, a.ID, 1, "twilio: HTTP 503"); err != nil {
			t.Fatal(err)
		}
		future := clock.Now().Add(time.Minute)
		ch, err := s.CheckStalls(ctx, future, live)
		if err != nil || len(ch) != 1 || !ch[0].Stalled || ch[0].Reason != "batch 1: twilio: HTTP 503" {
			t.Fatalf("stall %+v %v", ch, err)
		}
		if ch, _ := s.CheckStalls(ctx, future, live); len(ch) != 0 {
			t.Fatalf("reported twice: %+v", ch)
		}
		if n, _ := s.CountStalled(ctx); n != 1 {
			t.Fatalf("%d stalled", n)
		}
		got, _ := s.GetAlert(ctx, "", a.ID)
		if got.StalledAt == nil || got.StallReason == "" {
			t.Fatalf("%+v", got)
		}
		// A recipient reaches an outcome: progress.
		if err := s.Heartbeat(ctx, "p"); err != nil {
			t.Fatal(err)
		}
		lease, ok, err := s.ClaimAlertBatch(ctx, a.ID, 0, "p", live)
		if !ok || err != nil {
			t.Fatal(ok, err)
		}
		seqs, _ := s.QueuedInBatch(ctx, a.ID, 0, 1)
		rs, err := s.ClaimRecipients(ctx, a.ID, 0, seqs, lease)
		if err != nil || len(rs) != 1 {
			t.Fatal(rs, err)
		}
		clock.Advance(time.Second) // the progress comes after the stall was marked
		if err := s.RecordSendResults(ctx, a.ID, 0, "p", []alertstore.SendResult{{Seq: rs[0].Seq, Outcome: alertstore.OutcomeSent, SID: "SMstall0", ClaimedAt: rs[0].ClaimedAt}}, nil); err != nil {
			t.Fatal(err)
		}
		ch, err = s.CheckStalls(ctx, clock.Now().Add(-time.Minute), live)
		if err != nil || len(ch) != 1 || ch[0].Stalled {
			t.Fatalf("resume %+v %v", ch, err)
		}
		if n, _ := s.CountStalled(ctx); n != 0 {
			t.Fatalf("%d stalled after progress", n)
		}
		// Batch 1, whose error explained the stall, moves again: when the alert stalls once
		// more, that old error is no longer its reason.
		if lease, ok, err = s.ClaimAlertBatch(ctx, a.ID, 1, "p", live); !ok || err != nil {
			t.Fatal(ok, err)
		}
		seqs, _ = s.QueuedInBatch(ctx, a.ID, 1, 1)
		if rs, err = s.ClaimRecipients(ctx, a.ID, 1, seqs, lease); err != nil || len(rs) != 1 {
			t.Fatal(rs, err)
		}
		if err := s.RecordSendResults(ctx, a.ID, 1, "p", []alertstore.SendResult{{Seq: rs[0].Seq, Outcome: alertstore.OutcomeSent, SID: "SMstall1", ClaimedAt: rs[0].ClaimedAt}}, nil); err != nil {
			t.Fatal(err)
		}
		ch, err = s.CheckStalls(ctx, clock.Now().Add(time.Minute), live)
		if err != nil || len(ch) != 1 || !ch[0].Stalled || strings.Contains(ch[0].Reason, "503") {
			t.Fatalf("second stall %+v %v: the cleared error must not explain it", ch, err)
		}
	})
}
