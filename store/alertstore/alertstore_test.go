package alertstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/store/storetest"
)

func TestAPIKeysAreHashedAndRevocable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := alertstore.New(st)
		ctx := context.Background()
		k, key, err := s.CreateAPIKey(ctx, "firenze", "protezione civile")
		if err != nil || len(key) < 40 || key[:4] != alertstore.APIKeyPrefix {
			t.Fatalf("create: %q %v", key, err)
		}
		got, err := s.APIKeyByToken(ctx, key)
		if err != nil || got.ID != k.ID || got.Comune != "firenze" {
			t.Fatalf("lookup: %+v %v", got, err)
		}
		var stored int
		if err := s.QueryRow(ctx, "SELECT COUNT(*) FROM api_keys WHERE hash = ?", key).Scan(&stored); err != nil || stored != 0 {
			t.Fatalf("the key itself is stored (%d, %v)", stored, err)
		}
		if err := s.RevokeAPIKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.APIKeyByToken(ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoked key still works: %v", err)
		}
		if err := s.RevokeAPIKey(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoke unknown: %v", err)
		}
	})
}

func sub(t *testing.T, s *alertstore.Store, comune, phone string, topics ...string) {
	t.Helper()
	err := s.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		return alertstore.SubscribeByCitizen(ctx, tx, comune, phone, topics, "it", alertstore.ConsentActor{Via: alertstore.ViaSMS, Actor: phone})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func stop(t *testing.T, s *alertstore.Store, phone string) {
	t.Helper()
	err := s.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		_, err := alertstore.OptOut(ctx, tx, phone, alertstore.ConsentActor{Via: alertstore.ViaSMS, Actor: phone}, "")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStopWinsOverImportAndAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := alertstore.New(st)
		ctx := context.Background()
		sub(t, s, "firenze", "+393470000001")
		stop(t, s, "+393470000001")
		res, err := s.ImportSubscribers(ctx, "firenze", []alertstore.ImportRow{{Phone: "+393470000001"}, {Phone: "+393470000002"}}, nil, alertstore.ConsentActor{Via: alertstore.ViaImport, Actor: "x.csv"})
		if err != nil || res.Imported != 1 || res.OptedOut != 1 {
			t.Fatalf("import: %+v %v", res, err)
		}
		sb, _ := s.Subscriber(ctx, "firenze", "+393470000001")
		if sb.Status != alertstore.SubscriberStopped {
			t.Fatalf("import turned a STOP back on: %+v", sb)
		}
		// The API's answer does not tell Empoli about the STOP; nothing is asked, nothing confirmed.
		sb, ask, err := s.RequestSubscription(ctx, "empoli", "+393470000001", nil, "it", alertstore.ConsentActor{Via: alertstore.ViaAPI, Actor: "key"},
			func(context.Context, *store.Tx) error { t.Fatal("a confirmation for a STOPped number"); return nil })
		if err != nil || ask || sb.Status != alertstore.SubscriberPending {
			t.Fatalf("API on a STOPped number: %+v %v %v", sb, ask, err)
		}
		if cs, _ := s.Consents(ctx, "empoli", "+393470000001"); len(cs) != 1 || cs[0].Action != alertstore.ConsentRequest {
			t.Fatalf("Empoli sees another comune's STOP: %+v", cs)
		}
		// Only the citizen lifts their STOP.
		sub(t, s, "firenze", "+393470000001")
		if out, _ := s.IsOptedOut(ctx, "+393470000001"); out {
			t.Fatal("ISCRIVI did not lift the STOP")
		}
		cs, err := s.Consents(ctx, "firenze", "+393470000001")
		if err != nil || len(cs) != 3 || cs[0].Action != "subscribe" || cs[1].Action != "stop" || cs[2].Action != "subscribe" {
			t.Fatalf("consents: %+v %v", cs, err)
		}
	})
}

func TestPendingUntilConfirmed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := alertstore.New(st)
		ctx := context.Background()
		enq := 0
		sb, ask, err := s.RequestSubscription(ctx, "firenze", "+393470000009", []string{"traffico"}, "it",
			alertstore.ConsentActor{Via: alertstore.ViaAPI, Actor: "k1"}, func(context.Context, *store.Tx) error { enq++; return nil })
		if err != nil || !ask || sb.Status != alertstore.SubscriberPending || enq != 1 {
			t.Fatalf("%+v %v %v %d", sb, ask, err, enq)
		}
		a, err := s.CreateAlert(ctx, alertstore.Alert{Comune: "firenze", Category: "altro", Message: "m", TextIT: "m", TextEN: "m", Source: "api"}, alertstore.CreateAlertOptions{BatchSize: 10})
		if err != nil || a.Recipients != 0 || a.Status != alertstore.AlertSent {
			t.Fatalf("a pending subscriber was counted: %+v %v", a, err)
		}
		var comuni []string
		err = s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			comuni, err = alertstore.ConfirmPending(ctx, tx, "+393470000009", "", time.Now().Add(-time.Hour), alertstore.ConsentActor{Via: alertstore.ViaSMS, Actor: "+393470000009"})
			return err
		})
		if err != nil || len(comuni) != 1 || comuni[0] != "firenze" {
			t.Fatalf("confirm: %v %v", comuni, err)
		}
		sb, _ = s.Subscriber(ctx, "firenze", "+393470000009")
		if sb.Status != alertstore.SubscriberConfirmed || sb.ConfirmedAt == nil {
			t.Fatalf("%+v", sb)
		}
	})
}

func TestAlertAudienceAndFanoutStateMachine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := alertstore.New(st)
		ctx := context.Background()
		for i := 0; i < 25; i++ {
			sub(t, s, "firenze", fmt.Sprintf("+3934700001%02d", i))
		}
		sub(t, s, "firenze", "+393470000200", "scuole")
		sub(t, s, "firenze", "+393470000201", "traffico", "scuole")
		sub(t, s, "empoli", "+393470000300")
		sub(t, s, "firenze", "+393470000400")
		stop(t, s, "+393470000400")

		var enqueued []int
		enq := func(ctx context.Context, tx *store.Tx, id string, batches []int) error {
			enqueued = append(enqueued, batches...)
			return nil
		}
		a, err := s.CreateAlert(ctx, alertstore.Alert{Comune: "firenze", Category: "blocco-traffico", Topics: []string{"traffico"},
			Message: "blocco", TextIT: "blocco", TextEN: "block", Source: "api"}, alertstore.CreateAlertOptions{BatchSize: 10, Enqueue: enq})
		if err != nil {
			t.Fatal(err)
		}
		// 25 without topics + the one following traffico; not scuole-only, not empoli, not the STOP.
		if a.Recipients != 26 || a.Status != alertstore.AlertSending || len(enqueued) != 3 {
			t.Fatalf("alert %+v, batches %v", a, enqueued)
		}
		stale := alertstore.Liveness{StaleBefore: time.Now().Add(-10 * time.Second)}
		if err := s.Heartbeat(ctx, "p1"); err != nil {
			t.Fatal(err)
		}
		p1, ok, err := s.ClaimAlertBatch(ctx, a.ID, 0, "p1", stale)
		if !ok || err != nil {
			t.Fatalf("claim batch: %v %v", ok, err)
		}
		if _, ok, _ := s.ClaimAlertBatch(ctx, a.ID, 0, "p2", stale); ok {
			t.Fatal("a live owner's batch was claimed by another")
		}
		seqs, err := s.QueuedInBatch(ctx, a.ID, 0, 100)
		if err != nil || len(seqs) != 10 {
			t.Fatalf("queued: %v %v", seqs, err)
		}
		rs, err := s.ClaimRecipients(ctx, a.ID, 0, seqs, p1)
		if err != nil || len(rs) != 10 {
			t.Fatalf("claim: %d %v", len(rs), err)
		}
		if again, _ := s.ClaimRecipients(ctx, a.ID, 0, seqs, alertstore.BatchLease{Owner: "p2"}); len(again) != 0 {
			t.Fatal("recipients claimed twice")
		}
		// A status callback faster than our commit is kept and applied later.
		if id, err := s.UpdateRecipientDelivery(ctx, alertstore.RecipientRef{AlertID: a.ID, Seq: rs[0].Seq}, "SM0", alertstore.RecipientDelivered, ""); err != nil || id != "" {
			t.Fatalf("early: %q %v", id, err)
		}
		results := []alertstore.SendResult{}
		for i, r := range rs {
			switch i {
			case 0:
				results = append(results, alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeSent, SID: "SM0"})
			case 1:
				results = append(results, alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeFailed, ErrorCode: "21610", OptOut: true, Phone: r.Phone})
			case 2:
				results = append(results, alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeRetry, ErrorCode: "20429"})
			case 3:
				results = append(results, alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeUncertain, Error: "timeout"})
			default:
				results = append(results, alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeSent, SID: fmt.Sprintf("SM%d", i)})
			}
		}
		for i := range results {
			results[i].ClaimedAt = rs[i].ClaimedAt
		}
		if err := s.RecordSendResults(ctx, a.ID, 0, "p1", results, nil); err != nil {
			t.Fatal(err)
		}
		c, _ := s.CountRecipients(ctx, a.ID)
		if c.Delivered != 1 || c.Sent != 6 || c.Failed != 1 || c.Queued != 17 || c.Sending != 1 {
			t.Fatalf("counts %+v", c)
		}
		if out, _ := s.IsOptedOut(ctx, rs[1].Phone); !out {
			t.Fatal("21610 did not opt the number out")
		}
		ref5 := alertstore.RecipientRef{AlertID: a.ID, Seq: rs[5].Seq}
		if id, err := s.UpdateRecipientDelivery(ctx, alertstore.RecipientRef{AlertID: a.ID, Seq: rs[4].Seq}, "SM5", alertstore.RecipientFailed, "30003"); err != nil || id != "" {
			t.Fatalf("a callback about another recipient's message was applied: %q %v", id, err)
		}
		if id, err := s.UpdateRecipientDelivery(ctx, ref5, "SM5", alertstore.RecipientFailed, "30003"); err != nil || id != a.ID {
			t.Fatalf("callback: %q %v", id, err)
		}
		if _, err := s.UpdateRecipientDelivery(ctx, ref5, "SM5", alertstore.RecipientSent, ""); err != nil {
			t.Fatal(err)
		}
		c, _ = s.CountRecipients(ctx, a.ID)
		if c.Failed != 2 || c.Sent != 5 {
			t.Fatalf("a late 'sent' moved a failure back: %+v", c)
		}
		if done, _ := s.FinishAlertBatch(ctx, a.ID, 0, p1); done {
			t.Fatal("batch finished with a queued recipient")
		}
		// The uncertain one is an orphan at once (no owner); the provider had not got it.
		orphans, err := s.Orphans(ctx, stale, time.Now().Add(time.Second), 10)
		if err != nil || len(orphans) != 1 {
			t.Fatalf("orphans %v %v", orphans, err)
		}
		reopened := 0
		if err := s.ResolveOrphan(ctx, orphans[0], "", stale, func(context.Context, *store.Tx, string, []int) error { reopened++; return nil }); err != nil {
			t.Fatal(err)
		}
		if reopened != 0 {
			t.Fatal("a batch a live process works was given a second job")
		}
		c, _ = s.CountRecipients(ctx, a.ID)
		if c.Queued != 18 || c.Sending != 0 {
			t.Fatalf("after resolve %+v", c)
		}
		// The owner dies: its batch is abandoned, and reopened once.
		if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE alert_senders SET heartbeat_at = 0 WHERE id = 'p1'")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		ab, err := s.AbandonedBatches(ctx, stale, 10)
		if err != nil || len(ab) != 1 {
			t.Fatalf("abandoned %v %v", ab, err)
		}
		if err := s.ReopenAbandonedBatch(ctx, a.ID, 0, stale, func(context.Context, *store.Tx, string, []int) error { reopened++; return nil }); err != nil || reopened != 1 {
			t.Fatalf("reopen %v %d", err, reopened)
		}
		p2, ok, _ := s.ClaimAlertBatch(ctx, a.ID, 0, "p2", stale)
		if !ok {
			t.Fatal("the reopened batch cannot be claimed")
		}
		// Cancel: nothing queued remains.
		got, err := s.EndAlert(ctx, "empoli", a.ID, alertstore.AlertCancelled)
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another comune cancelled it: %+v %v", got, err)
		}
		got, err = s.EndAlert(ctx, "firenze", a.ID, alertstore.AlertCancelled)
		if err != nil || got.Status != alertstore.AlertCancelled {
			t.Fatalf("%+v %v", got, err)
		}
		c, _ = s.CountRecipients(ctx, a.ID)
		if c.Queued != 0 || c.Cancelled != 18 {
			t.Fatalf("after cancel %+v", c)
		}
		if rs, _ := s.ClaimRecipients(ctx, a.ID, 2, []int64{20, 21}, p2); len(rs) != 0 {
			t.Fatal("claimed recipients of a cancelled alert")
		}
		if done, _ := s.FinishAlertBatch(ctx, a.ID, 0, p2); !done {
			t.Fatal("batch of a cancelled alert not finished")
		}
	})
}

func TestSendSlotsAreSharedAndBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := alertstore.New(st)
		ctx := context.Background()
		iv := 10 * time.Millisecond
		a, wait, err := s.ReserveSendSlots(ctx, "sms", 10, iv, time.Second)
		if err != nil || wait != 0 {
			t.Fatal(err, wait)
		}
		b, _, err := s.ReserveSendSlots(ctx, "sms", 10, iv, time.Second)
		if err != nil || b.Sub(a) != 100*time.Millisecond {
			t.Fatalf("second reservation starts %v after the first, want 100ms (%v)", b.Sub(a), err)
		}
		// A reservation may start up to the horizon ahead: with 1s of slots each, the third waits.
		if _, w, err := s.ReserveSendSlots(ctx, "slow", 100, iv, time.Second); err != nil || w != 0 {
			t.Fatalf("first: wait %v %v", w, err)
		}
		if _, w, err := s.ReserveSendSlots(ctx, "slow", 100, iv, time.Second); err != nil || w != 0 {
			t.Fatalf("second: wait %v %v", w, err)
		}
		_, w, err := s.ReserveSendSlots(ctx, "slow", 100, iv, time.Second)
		if err != nil || w < 500*time.Millisecond || w > time.Second {
			t.Fatalf("beyond the horizon: wait %v %v", w, err)
		}
	})
}

func TestScheduledAlertStartsOnce(t *testing.T) {
	clock := &storetest.Clock{}
	storetest.EachWith(t, store.Options{Now: clock.Now}, func(t *testing.T, st *store.Store) {
		s := alertstore.New(st)
		ctx := context.Background()
		sub(t, s, "firenze", "+393470000001")
		a, err := s.CreateAlert(ctx, alertstore.Alert{Comune: "firenze", Category: "altro", Message: "m", TextIT: "m", TextEN: "m", Source: "api",
			SendAt: clock.Now().Add(time.Hour)}, alertstore.CreateAlertOptions{BatchSize: 10})
		if err != nil || a.Status != alertstore.AlertScheduled || a.Recipients != 1 {
			t.Fatalf("%+v %v", a, err)
		}
		clock.Advance(time.Hour - time.Second)
		if ids, _ := s.DueAlerts(ctx, 10); len(ids) != 0 {
			t.Fatal("due a second before its send_at")
		}
		clock.Advance(time.Second)
		ids, _ := s.DueAlerts(ctx, 10)
		if len(ids) != 1 {
			t.Fatalf("due %v", ids)
		}
		ok1, err1 := s.StartDueAlert(ctx, ids[0], alertstore.StartOptions{BatchSize: 10})
		ok2, err2 := s.StartDueAlert(ctx, ids[0], alertstore.StartOptions{BatchSize: 10})
		if !ok1 || ok2 || err1 != nil || err2 != nil {
			t.Fatalf("start %v %v %v %v", ok1, ok2, err1, err2)
		}
		c, _ := s.CountRecipients(ctx, a.ID)
		if c.Queued != 1 {
			t.Fatalf("%+v", c)
		}
	})
}

func TestOneConfirmationADayPerNumber(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := alertstore.New(st)
		ctx := context.Background()
		phone := "+393470000042"
		asks := 0
		request := func(comune string) bool {
			t.Helper()
			_, ask, err := s.RequestSubscription(ctx, comune, phone, nil, "it", alertstore.ConsentActor{Via: alertstore.ViaAPI, Actor: "k"},
				func(context.Context, *store.Tx) error { asks++; return nil })
			if err != nil {
				t.Fatal(err)
			}
			return ask
		}
		if !request("firenze") {
			t.Fatal("the first request sent nothing")
		}
		for i := 0; i < 5; i++ {
			if request("firenze") || request("empoli") {
				t.Fatalf("repeat %d sent another confirmation", i)
			}
		}
		if asks != 1 {
			t.Fatalf("%d confirmations enqueued, want 1", asks)
		}
		// An SI confirms Firenze, which asked; Empoli's request sent nothing, so it stays pending.
		var comuni []string
		confirm := func(comune string, since time.Time) {
			t.Helper()
			err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				var err error
				comuni, err = alertstore.ConfirmPending(ctx, tx, phone, comune, since, alertstore.ConsentActor{Via: alertstore.ViaSMS, Actor: phone})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		confirm("empoli", time.Now().Add(-time.Hour))
		if len(comuni) != 0 {
			t.Fatalf("an SI to Empoli's number confirmed %v", comuni)
		}
		confirm("", time.Now().Add(time.Hour)) // a request older than the window
		if len(comuni) != 0 {
			t.Fatalf("a stale request was confirmed: %v", comuni)
		}
		confirm("", time.Now().Add(-time.Hour))
		if len(comuni) != 1 || comuni[0] != "firenze" {
			t.Fatalf("confirmed %v, want firenze", comuni)
		}
		// A day later a request goes out again.
		if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE sms_confirmations SET sent_at = sent_at - ?", (25 * time.Hour).Microseconds())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !request("empoli") || request("empoli") {
			t.Fatal("not exactly one request the next day")
		}
	})
}

func TestRateLimitSharedAcrossStores(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			st, url := storetest.OpenURL(t, d)
			stores := []*alertstore.Store{alertstore.New(st)}
			if d == store.Postgres {
				// Three replicas: three stores, three pools, one database.
				for i := 0; i < 2; i++ {
					other, err := store.Open(context.Background(), store.Options{URL: url, DataDir: t.TempDir()})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() {
						if err := other.Close(); err != nil {
							t.Error(err)
						}
					})
					stores = append(stores, alertstore.New(other))
				}
			}
			rate := alertstore.Rate{Limit: 30, Per: time.Hour} // a refill every 2 minutes: none during the test
			var mu sync.Mutex
			allowed, limited := 0, 0
			var wg sync.WaitGroup
			for i := 0; i < 90; i++ {
				wg.Add(1)
				go func(s *alertstore.Store) {
					defer wg.Done()
					err := s.TakeRate(context.Background(), "apikey:k1", 1, rate)
					var rl *alertstore.RateLimitedError
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						allowed++
					// One refill (2 minutes), plus the time a take's clock reading waited for the
					// row lock behind the others (it read "now" before the lock).
					case errors.As(err, &rl) && rl.RetryAfter > 0 && rl.RetryAfter <= 2*time.Minute+5*time.Second:
						limited++
					default:
						t.Errorf("take: %v", err)
					}
				}(stores[i%len(stores)])
			}
			wg.Wait()
			if allowed != 30 || limited != 60 {
				t.Fatalf("allowed %d, limited %d: want 30 across %d stores", allowed, limited, len(stores))
			}
			if err := stores[0].TakeRate(context.Background(), "apikey:k2", 1, rate); err != nil {
				t.Fatalf("another key was limited: %v", err)
			}
		})
	}
}
