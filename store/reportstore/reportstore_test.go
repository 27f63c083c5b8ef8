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
