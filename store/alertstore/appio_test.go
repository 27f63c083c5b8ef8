package alertstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/store/storetest"
)

// Subscriptions by fiscal code: alone they reach only App IO alerts; with a phone the fiscal
// code rides on the phone's subscription, which replaces one by the fiscal code alone. Each
// recipient keeps its fiscal code and the channel it was reached on; App IO's accepted
// messages are listed for the status poll until delivered.
func TestFiscalCodeSubscriptionsAndAppIORecipients(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := alertstore.New(st)
		ctx := context.Background()
		by := alertstore.ConsentActor{Via: alertstore.ViaAPI, Actor: "apikey:x"}
		sub(t, s, "firenze", "+393470000001")
		sub(t, s, "firenze", "+393470000002")
		if _, err := s.SubscribeFiscalCode(ctx, "firenze", "RSSMRA85T10A562S", nil, "it", by); err != nil {
			t.Fatal(err)
		}
		sb, err := s.SubscribeFiscalCode(ctx, "firenze", "BNCLRA80A41F205G", nil, "it", by)
		if err != nil || sb.Phone != alertstore.FiscalKey("BNCLRA80A41F205G") || sb.Status != alertstore.SubscriberConfirmed || sb.FiscalCode != "BNCLRA80A41F205G" {
			t.Fatalf("by fiscal code alone: %+v %v", sb, err)
		}
		// The phone's subscription takes the fiscal code; the one by fiscal code alone goes.
		if err := s.SetFiscalCode(ctx, "firenze", "+393470000001", "RSSMRA85T10A562S", by); err != nil {
			t.Fatal(err)
		}
		got, err := s.SubscriberByFiscalCode(ctx, "firenze", "RSSMRA85T10A562S")
		if err != nil || got.Phone != "+393470000001" {
			t.Fatalf("by fiscal code: %+v %v", got, err)
		}
		if old, err := s.Subscriber(ctx, "firenze", alertstore.FiscalKey("RSSMRA85T10A562S")); err != nil || old.Status != alertstore.SubscriberRemoved {
			t.Fatalf("the subscription by fiscal code alone stayed: %+v %v", old, err)
		}
		// Asking again by fiscal code alone changes the phone's subscription, creates nothing.
		again, err := s.SubscribeFiscalCode(ctx, "firenze", "RSSMRA85T10A562S", []string{"traffico"}, "it", by)
		if err != nil || again.Phone != "+393470000001" || len(again.Topics) != 1 {
			t.Fatalf("again: %+v %v", again, err)
		}
		for _, tc := range []struct {
			chans []string
			want  int
		}{{nil, 2}, {[]string{"sms"}, 2}, {[]string{"app_io", "sms"}, 3}, {[]string{"app_io"}, 2}} {
			if n, err := s.CountAudienceFor(ctx, "firenze", nil, tc.chans); err != nil || n != tc.want {
				t.Errorf("audience of %v = %d, %v; want %d", tc.chans, n, err, tc.want)
			}
		}
		a, err := s.CreateAlert(ctx, alertstore.Alert{Comune: "firenze", Category: "altro", Message: "m", TextIT: "m", TextEN: "m", Source: "api",
			Channels: []string{alertstore.ChannelAppIO, alertstore.ChannelSMS}}, alertstore.CreateAlertOptions{BatchSize: 10})
		if err != nil || a.Recipients != 3 || !a.UsesAppIO() || !a.UsesSMS() {
			t.Fatalf("create: %+v %v", a, err)
		}
		if back, err := s.GetAlert(ctx, "firenze", a.ID); err != nil || len(back.Channels) != 2 || back.Channels[0] != "app_io" {
			t.Fatalf("channels not kept: %+v %v", back.Channels, err)
		}
		rs := claimFirstBatch(t, s, a.ID, "me", 3)
		var results []alertstore.SendResult
		for _, r := range rs {
			switch r.FiscalCode {
			case "RSSMRA85T10A562S":
				if r.Phone != "+393470000001" {
					t.Errorf("recipient %+v", r)
				}
				results = append(results, alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeSent, SID: alertstore.AppIOPrefix + "01A", Channel: alertstore.ChannelAppIO})
			case "BNCLRA80A41F205G":
				if r.Phone != "" {
					t.Errorf("a subscription by fiscal code alone has no phone: %+v", r)
				}
				results = append(results, alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeFailed, Error: "no profile", Channel: alertstore.ChannelAppIO})
			default:
				results = append(results, alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeSent, SID: "SM1", Channel: alertstore.ChannelSMS})
			}
		}
		for i := range results {
			results[i].ClaimedAt = rs[i].ClaimedAt
		}
		if err := s.RecordSendResults(ctx, a.ID, 0, "me", results, nil); err != nil {
			t.Fatal(err)
		}
		byCh, err := s.ChannelCounts(ctx, a.ID)
		if err != nil || byCh["app_io"].Sent != 1 || byCh["app_io"].Failed != 1 || byCh["sms"].Sent != 1 {
			t.Fatalf("by channel: %+v %v", byCh, err)
		}
		pending, err := s.AppIOSent(ctx, time.Now().Add(time.Second), 10)
		if err != nil || len(pending) != 1 || pending[0].SID != "io:01A" || pending[0].FiscalCode != "RSSMRA85T10A562S" || pending[0].Comune != "firenze" {
			t.Fatalf("App IO pending: %+v %v", pending, err)
		}
		if err := s.TouchRecipient(ctx, a.ID, pending[0].Seq); err != nil {
			t.Fatal(err)
		}
		if again, err := s.AppIOSent(ctx, time.Now().Add(-time.Minute), 10); err != nil || len(again) != 0 {
			t.Fatalf("a recipient just asked about is listed again: %+v %v", again, err)
		}
		if _, err := s.UpdateRecipientDelivery(ctx, alertstore.RecipientRef{AlertID: pending[0].AlertID, Seq: pending[0].Seq}, "io:01A", alertstore.RecipientDelivered, ""); err != nil {
			t.Fatal(err)
		}
		if after, err := s.AppIOSent(ctx, time.Now().Add(time.Hour), 10); err != nil || len(after) != 0 {
			t.Fatalf("a delivered message is still pending: %+v %v", after, err)
		}
	})
}
