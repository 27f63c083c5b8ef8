package alertstore_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/store/storetest"
)

// A provider's error text is whatever its answer held: bytes that are no UTF-8, or a long
// Italian message whose cut falls inside an accented letter. PostgreSQL refuses text that is
// not UTF-8, and with it the record of the whole chunk; the text is stored cut on a
// character's edge, its stray bytes replaced.
func TestProviderErrorTextIsStoredAsUTF8(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := alertstore.New(st)
		ctx := context.Background()
		sub(t, s, "firenze", "+393470000001")
		sub(t, s, "firenze", "+393470000002")
		a, err := s.CreateAlert(ctx, alertstore.Alert{Comune: "firenze", Category: "altro", Message: "m", TextIT: "m", TextEN: "m", Source: "api"},
			alertstore.CreateAlertOptions{BatchSize: 10})
		if err != nil {
			t.Fatal(err)
		}
		rs := claimFirstBatch(t, s, a.ID, "me", 2)
		texts := []string{
			strings.Repeat("a", 499) + "è stato rifiutato",
			"risposta illeggibile: \xff\xfe\x00 fine",
		}
		var results []alertstore.SendResult
		for i, r := range rs {
			results = append(results, alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeFailed, Error: texts[i], ClaimedAt: r.ClaimedAt})
		}
		if err := s.RecordSendResults(ctx, a.ID, 0, "me", results, nil); err != nil {
			t.Fatalf("recording the chunk: %v", err)
		}
		rows, err := st.Query(ctx, "SELECT error FROM alert_recipients WHERE alert_id = ? ORDER BY seq", a.ID)
		got, err := store.Collect(rows, err, func(r interface{ Scan(...any) error }) (string, error) {
			var e string
			return e, r.Scan(&e)
		})
		if err != nil || len(got) != 2 {
			t.Fatalf("stored errors %q: %v", got, err)
		}
		for _, e := range got {
			if !utf8.ValidString(e) || len(e) > 500 || e == "" {
				t.Errorf("stored error %q: %d bytes, valid UTF-8 %v", e, len(e), utf8.ValidString(e))
			}
		}
	})
}

// claimFirstBatch claims an alert's first batch for owner and its queued recipients, of which
// there must be want.
func claimFirstBatch(t *testing.T, s *alertstore.Store, alertID, owner string, want int) []alertstore.Recipient {
	t.Helper()
	ctx := context.Background()
	live := alertstore.Liveness{StaleBefore: time.Now().Add(-time.Minute), LeaseBefore: time.Now().Add(-time.Minute)}
	lease, ok, err := s.ClaimAlertBatch(ctx, alertID, 0, owner, live)
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	seqs, err := s.QueuedInBatch(ctx, alertID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := s.ClaimRecipients(ctx, alertID, 0, seqs, lease)
	if err != nil || len(rs) != want {
		t.Fatalf("claim: %+v %v, want %d recipients", rs, err, want)
	}
	return rs
}
