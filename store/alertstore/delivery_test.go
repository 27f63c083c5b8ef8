package alertstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/store/storetest"
)

// twoReplicas is one alert of three recipients claimed by the sender replica; the other
// replica gets the provider's delivery callbacks. Both are stores on one PostgreSQL database.
type twoReplicas struct {
	sender, callbacks *alertstore.Store
	alert             string
	results           []alertstore.SendResult
}

func newTwoReplicas(t *testing.T) *twoReplicas {
	t.Helper()
	ctx := context.Background()
	sh := storetest.NewShared(t, store.Postgres)
	r := &twoReplicas{sender: alertstore.New(sh.Open(t)), callbacks: alertstore.New(sh.Open(t))}
	for i := range 3 {
		sub(t, r.sender, "firenze", fmt.Sprintf("+39347000080%d", i))
	}
	a, err := r.sender.CreateAlert(ctx, alertstore.Alert{Comune: "firenze", Category: "altro", Message: "m", TextIT: "m", TextEN: "m", Source: "api"},
		alertstore.CreateAlertOptions{BatchSize: 100, Enqueue: func(context.Context, *store.Tx, string, []int) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	r.alert = a.ID
	if err := r.sender.Heartbeat(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	lease, ok, err := r.sender.ClaimAlertBatch(ctx, a.ID, 0, "p1", alertstore.Liveness{StaleBefore: time.Now().Add(-time.Minute)})
	if !ok || err != nil {
		t.Fatalf("claim batch: %v %v", ok, err)
	}
	seqs, err := r.sender.QueuedInBatch(ctx, a.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := r.sender.ClaimRecipients(ctx, a.ID, 0, seqs, lease)
	if err != nil || len(rs) != 3 {
		t.Fatalf("claim: %d %v", len(rs), err)
	}
	for i, rc := range rs {
		r.results = append(r.results, alertstore.SendResult{Seq: rc.Seq, Outcome: alertstore.OutcomeSent, SID: fmt.Sprintf("SMrace%d", i), ClaimedAt: rc.ClaimedAt})
	}
	return r
}

func (r *twoReplicas) record(t *testing.T) {
	t.Helper()
	if err := r.sender.RecordSendResults(context.Background(), r.alert, 0, "p1", r.results, nil); err != nil {
		t.Fatal(err)
	}
}

func (r *twoReplicas) deliver(t *testing.T, i int) {
	t.Helper()
	ref := alertstore.RecipientRef{AlertID: r.alert, Seq: r.results[i].Seq}
	if _, err := r.callbacks.UpdateRecipientDelivery(context.Background(), ref, r.results[i].SID, alertstore.RecipientDelivered, ""); err != nil {
		t.Fatal(err)
	}
}

func (r *twoReplicas) wantDelivered(t *testing.T, n int) {
	t.Helper()
	c, err := r.sender.CountRecipients(context.Background(), r.alert)
	if err != nil {
		t.Fatal(err)
	}
	if c.Delivered != n {
		t.Fatalf("counts %+v, want %d delivered", c, n)
	}
}

// A callback that reaches one replica while another records its send, each transaction
// missing the other's uncommitted row, was held for ever (the alert counted the message sent,
// never delivered). Whoever commits last now looks again.
func TestCallbackHeldWhileAnotherReplicaRecordsTheSend(t *testing.T) {
	t.Run("record commits last", func(t *testing.T) {
		r := newTwoReplicas(t)
		r.sender.BeforeCommit(func(step string) {
			if step == "record" {
				r.deliver(t, 0) // held, and its own second look finds no sid yet
			}
		})
		r.record(t)
		r.wantDelivered(t, 1)
	})
	t.Run("hold commits last", func(t *testing.T) {
		r := newTwoReplicas(t)
		r.callbacks.BeforeCommit(func(step string) {
			if step == "hold" {
				r.record(t) // recorded and committed; its look finds no hold yet
			}
		})
		r.deliver(t, 1)
		r.wantDelivered(t, 1)
	})
}

// A hold whose sender stopped between its commit and its second look is applied by the sweep.
func TestSweepAppliesHeldCallbacksOfRecordedSends(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		tk := newTakeover(t, st, 2)
		_, rs := tk.claim(t, "slow", tk.holding, 2)
		tk.record(t, "slow", rs, 2)
		// What a dead process leaves: the hold committed after the record's looks.
		err := tk.s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO alert_early_status (sid, alert_id, seq, status, error_code, at) VALUES (?, ?, ?, 'failed', '30003', 0), ('SMnotours', ?, ?, 'delivered', '', 0)",
				fmt.Sprintf("SMslow%d", rs[0].Seq), tk.alert, rs[0].Seq, tk.alert, rs[1].Seq)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		n, err := tk.s.ApplyHeldStatuses(ctx)
		if err != nil || n != 1 {
			t.Fatalf("applied %d, %v; want 1", n, err)
		}
		c, err := tk.s.CountRecipients(ctx, tk.alert)
		if err != nil || c.Failed != 1 || c.Sent != 1 {
			t.Fatalf("counts %+v %v", c, err)
		}
		var left int
		if err := tk.s.QueryRow(ctx, "SELECT COUNT(*) FROM alert_early_status").Scan(&left); err != nil || left != 1 {
			t.Fatalf("%d holds left, want the one not ours (%v)", left, err)
		}
	})
}
