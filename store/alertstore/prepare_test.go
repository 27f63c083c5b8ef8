package alertstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/store/storetest"
)

// subscribeMany adds n confirmed subscribers of firenze without topics, in one write.
func subscribeMany(t testing.TB, s *alertstore.Store, n int) {
	t.Helper()
	err := s.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		for from := 0; from < n; from += 500 {
			var b strings.Builder
			b.WriteString("INSERT INTO subscribers (comune, phone, status, topics, lang, source, created_at, updated_at, confirmed_at) VALUES ")
			var args []any
			for i := from; i < min(from+500, n); i++ {
				if i > from {
					b.WriteByte(',')
				}
				b.WriteString("('firenze', ?, 'confirmed', '', 'it', 'import', 1, 1, 1)")
				args = append(args, fmt.Sprintf("+39347%07d", i))
			}
			if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// startLargeAlert subscribes n numbers and starts an alert to them in batches of batchSize,
// with a prepare job (recorded in p, not run).
func startLargeAlert(t testing.TB, st *store.Store, n, batchSize int) (*alertstore.Store, alertstore.Alert, *preparing, alertstore.CreateAlertOptions) {
	t.Helper()
	s := alertstore.New(st)
	subscribeMany(t, s, n)
	p := &preparing{}
	o := p.options(batchSize)
	a, err := s.CreateAlert(context.Background(), alertstore.Alert{Comune: "firenze", Category: "altro", Message: "m", TextIT: "m", TextEN: "m", Source: "api"}, o)
	if err != nil {
		t.Fatal(err)
	}
	return s, a, p, o
}

// preparing records what a start asked of the job system.
type preparing struct {
	batches  []int
	prepares int
}

func (p *preparing) options(batchSize int) alertstore.CreateAlertOptions {
	return alertstore.CreateAlertOptions{BatchSize: batchSize,
		Enqueue: func(_ context.Context, _ *store.Tx, _ string, b []int) error {
			p.batches = append(p.batches, b...)
			return nil
		},
		Prepare: func(context.Context, *store.Tx, string) error { p.prepares++; return nil }}
}

func (p *preparing) start(o alertstore.CreateAlertOptions) alertstore.StartOptions {
	return alertstore.StartOptions{BatchSize: o.BatchSize, Enqueue: o.Enqueue, Prepare: o.Prepare}
}

// A large audience is written a chunk at a time after the start's own short transaction:
// numbered without a gap, each subscriber once, each batch recorded (and its job asked for)
// only once all its recipients are written; and the alert is not "sent" while the rest of its
// audience is still to be written, even when every batch written so far is done.
func TestLargeAudienceIsWrittenInChunks(t *testing.T) {
	const n = 1234
	for _, batchSize := range []int{100, 500, 250} {
		t.Run(fmt.Sprintf("batch%d", batchSize), func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				s, a, p, o := startLargeAlert(t, st, n, batchSize)
				ctx := context.Background()
				chunk := alertstore.PrepareChunkFor(batchSize)
				if a.Status != alertstore.AlertSending || a.Recipients != n || p.prepares != 1 {
					t.Fatalf("after the start: %s, %d recipients, %d prepare jobs", a.Status, a.Recipients, p.prepares)
				}
				if c, _ := s.CountRecipients(ctx, a.ID); c.Total() != chunk {
					t.Fatalf("the start wrote %d recipients, want one chunk of %d", c.Total(), chunk)
				}
				wantFirst := []int{0}
				if chunk < batchSize {
					wantFirst = nil // half a batch: no job yet
				}
				if fmt.Sprint(p.batches) != fmt.Sprint(wantFirst) {
					t.Fatalf("batches after the start %v, want %v", p.batches, wantFirst)
				}
				if len(wantFirst) == 1 {
					finishBatch(t, s, a.ID, 0)
					if got, _ := s.GetAlert(ctx, "", a.ID); got.Status != alertstore.AlertSending {
						t.Fatalf("the alert is %s with most of its audience still to write", got.Status)
					}
				}
				prepareAll(t, s, a.ID, p.start(o))
				wantBatches := (n + batchSize - 1) / batchSize
				if len(p.batches) != wantBatches {
					t.Fatalf("batches %v, want %d", p.batches, wantBatches)
				}
				for i, b := range p.batches {
					if b != i {
						t.Fatalf("batches %v out of order", p.batches)
					}
				}
				var rows, phones, maxSeq, badBatch int
				err := st.QueryRow(ctx, `SELECT COUNT(*), COUNT(DISTINCT phone), MAX(seq), SUM(CASE WHEN batch <> (seq - 1) / ? THEN 1 ELSE 0 END)
					FROM alert_recipients WHERE alert_id = ?`, batchSize, a.ID).Scan(&rows, &phones, &maxSeq, &badBatch)
				if err != nil || rows != n || phones != n || maxSeq != n || badBatch != 0 {
					t.Fatalf("%d rows, %d phones, last seq %d, %d in the wrong batch (%v)", rows, phones, maxSeq, badBatch, err)
				}
				got, err := s.GetAlert(ctx, "", a.ID)
				if err != nil || got.Recipients != n || got.Status != alertstore.AlertSending {
					t.Fatalf("prepared: %+v %v", got, err)
				}
				for b := 0; b < wantBatches; b++ {
					if b == 0 && len(wantFirst) == 1 {
						continue // finished above
					}
					finishBatch(t, s, a.ID, b)
				}
				if got, _ := s.GetAlert(ctx, "", a.ID); got.Status != alertstore.AlertSent {
					t.Fatalf("every batch done, the alert is %s", got.Status)
				}
			})
		})
	}
}

// prepareAll writes the rest of the alert's audience, as its prepare job would.
func prepareAll(t testing.TB, s *alertstore.Store, alertID string, o alertstore.StartOptions) {
	t.Helper()
	for chunks := 0; ; chunks++ {
		done, err := s.PrepareAlert(context.Background(), alertID, o)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			return
		}
		if chunks > 100000 {
			t.Fatal("the preparation does not end")
		}
	}
}

// finishBatch sends every recipient of a batch and finishes it, as a fan-out job would.
func finishBatch(t *testing.T, s *alertstore.Store, alertID string, batch int) {
	t.Helper()
	ctx := context.Background()
	if err := s.Heartbeat(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	live := alertstore.Liveness{StaleBefore: time.Now().Add(-time.Minute)}
	lease, ok, err := s.ClaimAlertBatch(ctx, alertID, batch, "p", live)
	if !ok || err != nil {
		t.Fatalf("claim batch %d: %v %v", batch, ok, err)
	}
	seqs, err := s.QueuedInBatch(ctx, alertID, batch, 10000)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := s.ClaimRecipients(ctx, alertID, batch, seqs, lease)
	if err != nil {
		t.Fatal(err)
	}
	results := make([]alertstore.SendResult, len(rs))
	for i, r := range rs {
		results[i] = alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeSent, SID: fmt.Sprintf("SM%s%d", alertID[:8], r.Seq), ClaimedAt: r.ClaimedAt}
	}
	if err := s.RecordSendResults(ctx, alertID, batch, "p", results, nil); err != nil {
		t.Fatal(err)
	}
	if done, err := s.FinishAlertBatch(ctx, alertID, batch, lease); !done || err != nil {
		t.Fatalf("finish batch %d: %v %v", batch, done, err)
	}
}

// An alert cancelled while its audience is being written stops there: nothing more is
// written, its recipients are those written, and the queued ones are cancelled.
func TestCancelledWhilePreparingStopsWriting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, a, p, o := startLargeAlert(t, st, 1200, 100)
		ctx := context.Background()
		if done, err := s.PrepareAlert(ctx, a.ID, p.start(o)); done || err != nil {
			t.Fatalf("second chunk: %v %v", done, err)
		}
		if _, err := s.EndAlert(ctx, "firenze", a.ID, alertstore.AlertCancelled); err != nil {
			t.Fatal(err)
		}
		if done, err := s.PrepareAlert(ctx, a.ID, p.start(o)); !done || err != nil {
			t.Fatalf("after the cancel: %v %v", done, err)
		}
		got, _ := s.GetAlert(ctx, "", a.ID)
		c, _ := s.CountRecipients(ctx, a.ID)
		if got.Status != alertstore.AlertCancelled || got.Recipients != 200 || c.Total() != 200 || c.Cancelled != 200 {
			t.Fatalf("%s, %d recipients, counts %+v", got.Status, got.Recipients, c)
		}
		if ids, err := s.UnpreparedAlerts(ctx, alertstore.Liveness{StaleBefore: time.Now().Add(time.Hour)}, time.Now().Add(time.Hour), 10); len(ids) != 0 || err != nil {
			t.Fatalf("a cancelled alert is still to prepare: %v %v", ids, err)
		}
	})
}

// A preparation whose process died is listed once that process's heartbeat is stale, or once
// it wrote nothing for the stuck bound even though it is alive; it is then given one new job.
func TestStoppedPreparationIsResumed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, a, p, o := startLargeAlert(t, st, 1200, 500)
		ctx := context.Background()
		start := p.start(o)
		start.Owner = "preparer"
		if done, err := s.PrepareAlert(ctx, a.ID, start); done || err != nil {
			t.Fatalf("second chunk: %v %v", done, err)
		}
		chunkAt := time.Now()
		time.Sleep(5 * time.Millisecond)
		if err := s.Heartbeat(ctx, "preparer"); err != nil {
			t.Fatal(err)
		}
		beatAt := time.Now()
		list := func(staleBefore, stuckBefore time.Time) []string {
			t.Helper()
			ids, err := s.UnpreparedAlerts(ctx, alertstore.Liveness{StaleBefore: staleBefore}, stuckBefore, 10)
			if err != nil {
				t.Fatal(err)
			}
			return ids
		}
		if ids := list(chunkAt.Add(-time.Minute), chunkAt.Add(-time.Hour)); len(ids) != 0 {
			t.Fatalf("a preparation that just wrote a chunk is listed as stopped: %v", ids)
		}
		// No chunk since the stale bound, but the preparer's heartbeat is newer: alive.
		if ids := list(chunkAt.Add(time.Millisecond), chunkAt.Add(-time.Hour)); len(ids) != 0 {
			t.Fatalf("the preparation of a live process is listed as stopped: %v", ids)
		}
		// Alive, but nothing written since the stuck bound.
		if ids := list(chunkAt.Add(time.Millisecond), beatAt.Add(time.Minute)); len(ids) != 1 || ids[0] != a.ID {
			t.Fatalf("a stuck preparation: %v", ids)
		}
		// Its heartbeat is stale: dead.
		ids := list(beatAt.Add(time.Millisecond), chunkAt.Add(-time.Hour))
		if len(ids) != 1 || ids[0] != a.ID {
			t.Fatalf("the preparation of a dead process: %v", ids)
		}
		if err := s.EnqueuePrepare(ctx, a.ID, "resumer", o.Prepare); err != nil || p.prepares != 2 {
			t.Fatalf("resumed with %d jobs in all: %v", p.prepares, err)
		}
		enqueuedAt := time.Now()
		time.Sleep(5 * time.Millisecond)
		if err := s.Heartbeat(ctx, "resumer"); err != nil {
			t.Fatal(err)
		}
		// The job is not running yet; the preparation is the live resumer's meanwhile.
		if ids := list(enqueuedAt.Add(time.Millisecond), chunkAt.Add(-time.Hour)); len(ids) != 0 {
			t.Fatalf("a preparation just resumed by a live process is listed again: %v", ids)
		}
		prepareAll(t, s, a.ID, p.start(o))
		if err := s.EnqueuePrepare(ctx, a.ID, "resumer", o.Prepare); err != nil || p.prepares != 2 {
			t.Fatalf("a prepared alert got another job (%d): %v", p.prepares, err)
		}
	})
}
