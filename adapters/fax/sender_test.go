package fax

import (
	"context"
	"errors"
	"testing"

	"github.com/sportello/sportello/channels"
)

type recordingSender struct{ got []channels.OutboundMessage }

func (r *recordingSender) Send(_ context.Context, out channels.OutboundMessage) (channels.SendResult, error) {
	r.got = append(r.got, out)
	return channels.SendResult{ExternalID: "id"}, nil
}

func TestSenderRewritesNumbers(t *testing.T) {
	rec := &recordingSender{}
	f := Sender{Mail: rec, Domain: "fax.example"}
	if _, err := f.Send(context.Background(), channels.OutboundMessage{Channel: channels.Fax, To: "+390551234567", Body: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Send(context.Background(), channels.OutboundMessage{Channel: channels.Fax, To: "390551234567@fax.example", Body: "x"}); err != nil {
		t.Fatal(err)
	}
	if rec.got[0].To != "390551234567@fax.example" || rec.got[1].To != "390551234567@fax.example" {
		t.Fatalf("%+v", rec.got)
	}
	_, err := Sender{Mail: rec}.Send(context.Background(), channels.OutboundMessage{To: "+390551234567"})
	var se *channels.SendError
	if !errors.As(err, &se) || !se.Permanent {
		t.Fatalf("no domain: %v", err)
	}
}
