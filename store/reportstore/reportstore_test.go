package reportstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/reportstore"
	"github.com/sportello/sportello/store/storetest"
)

// The first outbound message a person wrote is the contact's first response; automatic answers,
// later messages and the inbound message itself do not move it.
func TestFirstResponseIsTheFirstOutboundMessage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		arrived := time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)
		r, err := st.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.SMS,
			Direction: channels.Inbound, ExternalID: "SM1", From: "+393471234567", To: "+39055055", Body: "ciao", ReceivedAt: arrived}})
		if err != nil {
			t.Fatal(err)
		}
		// An automatic answer at once does not count; the operator's at 95 s does, a later one not.
		for i, after := range []time.Duration{0, 95 * time.Second, time.Hour} {
			author := "anna"
			if after == 0 {
				author = ""
			}
			err := st.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				return st.InsertOutboundTx(ctx, tx, channels.Message{ID: store.NewID(), ContactID: r.ContactID, Channel: channels.SMS,
					Body: "risposta", Author: author, CreatedAt: arrived.Add(after)})
			})
			if err != nil {
				t.Fatal(i, err)
			}
		}
		f := reportstore.Filter{From: store.Micros(arrived.Add(-time.Hour)), To: store.Micros(arrived.Add(time.Hour)), TargetSeconds: 20}
		got, err := reportstore.New(st).FirstResponses(ctx, f)
		if err != nil || len(got) != 1 || got[0] != 95_000_000 {
			t.Fatalf("first responses %v %v, want [95 s]", got, err)
		}
		var firstInCSV int64
		err = reportstore.New(st).EachRow(ctx, f, func(row reportstore.Row) error { firstInCSV = row.FirstOutbound.Int64; return nil })
		if err != nil || firstInCSV != store.Micros(arrived.Add(95*time.Second)) {
			t.Fatalf("row's first outbound %d %v", firstInCSV, err)
		}
		f.Comuni = []string{"empoli"}
		if got, _ := reportstore.New(st).FirstResponses(ctx, f); len(got) != 0 {
			t.Fatalf("another comune's contact counted: %v", got)
		}
	})
}

// A PBX's hang-up delivered before its answer: the reports count an answered call, within the
// target, with the wait to the answer and the talk after it, not an abandonment.
func TestCallWhoseHangupArrivedFirstCountsAsAnswered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		arrived := time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)
		at := func(seconds int) *time.Time { v := arrived.Add(time.Duration(seconds) * time.Second); return &v }
		if _, err := st.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.Phone,
			Direction: channels.Inbound, ExternalID: "CTI-1", From: "+393471234567", To: "+39055055",
			Call: &channels.Call{Status: "ringing"}, ReceivedAt: arrived}}); err != nil {
			t.Fatal(err)
		}
		for _, u := range []store.CallUpdate{{Status: "completed", EndedAt: at(60)}, {Status: "in-progress", AnsweredAt: at(10), Operator: "anna"}} {
			if _, err := st.UpdateCall(ctx, channels.Phone, "CTI-1", u); err != nil {
				t.Fatal(err)
			}
		}
		f := reportstore.Filter{From: store.Micros(arrived.Add(-time.Hour)), To: store.Micros(arrived.Add(time.Hour)), TargetSeconds: 20}
		got, err := reportstore.New(st).Buckets(ctx, f)
		if err != nil || len(got) != 1 {
			t.Fatalf("buckets %+v %v, want one", got, err)
		}
		b := got[0]
		if b.Offered != 1 || b.Answered != 1 || b.Abandoned != 0 || b.AnsweredWithinTarget != 1 ||
			b.WaitSum != 10 || b.WaitCount != 1 || b.TalkSum != 50 || b.TalkCount != 1 {
			t.Errorf("bucket %+v, want 1 answered within target, wait 10 s, talk 50 s", b)
		}
	})
}
