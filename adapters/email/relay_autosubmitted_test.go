package email

import (
	"bytes"
	"context"
	"testing"

	"github.com/emersion/go-message/mail"

	"github.com/sportello/sportello/adapters/email/mailparse"
	"github.com/sportello/sportello/channels"
)

// TestRelayMarksAutomaticAnswersAutoSubmitted: an automatic answer goes out with
// "Auto-Submitted: auto-replied" (RFC 3834 §5), which responders, ours included, read as "do
// not answer"; an operator's reply carries no such field.
func TestRelayMarksAutomaticAnswersAutoSubmitted(t *testing.T) {
	b := &relayBackend{}
	addr := startRelay(t, b, nil, false)
	s, err := NewRelaySender(RelayOptions{Addr: addr, From: "Linea Comune <noreply@055055.example>"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	closedNotice := channels.OutboundMessage{Channel: channels.Email, To: "anna@example.it", Subject: "Ufficio chiuso",
		Body: "Siamo chiusi.", InReplyTo: "q@example.it", AutoReply: true}
	operatorReply := channels.OutboundMessage{Channel: channels.Email, To: "anna@example.it", Subject: "Re: Buca",
		Body: "La buca sarà riparata.", InReplyTo: "q@example.it"}
	for _, out := range []channels.OutboundMessage{closedNotice, operatorReply} {
		if _, err := s.Send(ctx, out); err != nil {
			t.Fatal(err)
		}
	}
	got := b.messages()
	if len(got) != 2 {
		t.Fatalf("relayed %d messages, want 2", len(got))
	}
	for i, want := range []string{"auto-replied", ""} {
		mr, err := mail.CreateReader(bytes.NewReader(got[i].data))
		if err != nil {
			t.Fatal(err)
		}
		if v := mr.Header.Get("Auto-Submitted"); v != want {
			t.Errorf("message %d: Auto-Submitted %q, want %q", i, v, want)
		}
		in, err := mailparse.Parse(bytes.NewReader(got[i].data), mailparse.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if in.AutoReply != (want != "") {
			t.Errorf("message %d: read back as an auto-reply: %v", i, in.AutoReply)
		}
	}
}
