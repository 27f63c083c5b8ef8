package alerts

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/store/storetest"
)

// fakeAppIO is App IO: profiles by fiscal code, and the error its next send answers.
type fakeAppIO struct {
	allowed  map[string]bool
	sendErr  error
	allowErr error
	sent     []channels.AppIOMessage
}

func (f *fakeAppIO) Enabled(comune string) bool { return comune == "firenze" }
func (f *fakeAppIO) Allowed(_ context.Context, _, cf string) (bool, error) {
	return f.allowed[cf], f.allowErr
}
func (f *fakeAppIO) SendIO(_ context.Context, m channels.AppIOMessage) (string, error) {
	if f.sendErr != nil {
		return "", f.sendErr
	}
	f.sent = append(f.sent, m)
	return "01X", nil
}
func (f *fakeAppIO) IOStatus(context.Context, string, string, string) (string, error) {
	return channels.AppIOProcessed, nil
}

// Each way App IO can answer ends in the right outcome: sent through App IO; SMS instead when
// App IO cannot reach the citizen (no profile, a refusing profile, a refused message); back to
// the queue when throttled or down; failed, never resent, when App IO may have taken the
// message without saying so.
func TestAppIOOutcomes(t *testing.T) {
	io := &fakeAppIO{allowed: map[string]bool{"RSSMRA85T10A562S": true}}
	sms := &fakeSender{}
	svc, err := New(Options{Store: storetest.Open(t, store.SQLite), Config: testConfig(t, 1000, 100), AppIO: io,
		Sender: func() channels.Sender { return sms }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a := alertstore.Alert{Comune: "firenze", Category: "blocco-traffico", TextIT: "Firenze: strade chiuse", TextEN: "x",
		Channels: []string{alertstore.ChannelAppIO, alertstore.ChannelSMS}}
	withPhone := alertstore.Recipient{Seq: 1, Phone: "+393470000001", FiscalCode: "RSSMRA85T10A562S", Lang: "it"}
	refuser := alertstore.Recipient{Seq: 2, Phone: "+393470000002", FiscalCode: "BNCLRA80A41F205G", Lang: "it"}
	noPhone := alertstore.Recipient{Seq: 3, FiscalCode: "BNCLRA80A41F205G", Lang: "it"}

	res := svc.sendOne(ctx, sms, a, withPhone)
	if res.Outcome != alertstore.OutcomeSent || res.SID != "io:01X" || res.Channel != alertstore.ChannelAppIO || len(sms.accepted) != 0 {
		t.Fatalf("an allowed profile: %+v, %d SMS", res, len(sms.accepted))
	}
	if m := io.sent[0]; !strings.Contains(m.Markdown, "Firenze: strade chiuse") || len([]rune(m.Markdown)) < 80 || len([]rune(m.Subject)) < 10 {
		t.Fatalf("App IO content %+v", m)
	}
	res = svc.sendOne(ctx, sms, a, refuser)
	if res.Outcome != alertstore.OutcomeSent || res.Channel != alertstore.ChannelSMS || len(sms.accepted) != 1 || sms.accepted[0].To != refuser.Phone {
		t.Fatalf("a refusing profile falls back to SMS: %+v", res)
	}
	res = svc.sendOne(ctx, sms, a, noPhone)
	if res.Outcome != alertstore.OutcomeFailed || res.Channel != alertstore.ChannelAppIO || !strings.Contains(res.Error, "no App IO profile") {
		t.Fatalf("no profile and no phone: %+v", res)
	}

	io.sendErr = &channels.SendError{Code: 403, Permanent: true, Message: "forbidden"}
	res = svc.sendOne(ctx, sms, a, withPhone)
	if res.Channel != alertstore.ChannelSMS || res.Outcome != alertstore.OutcomeSent {
		t.Fatalf("a message App IO refuses goes by SMS: %+v", res)
	}
	io.sendErr = &channels.SendError{Code: 429, Message: "throttled"}
	if res = svc.sendOne(ctx, sms, a, withPhone); res.Outcome != alertstore.OutcomeRetry || res.ErrorCode != "429" {
		t.Fatalf("throttled: %+v", res)
	}
	io.sendErr = &channels.SendError{Message: "no answer", Err: &net.OpError{Op: "dial", Err: errors.New("refused")}}
	if res = svc.sendOne(ctx, sms, a, withPhone); res.Outcome != alertstore.OutcomeRetry {
		t.Fatalf("never connected: %+v", res)
	}
	io.sendErr = &channels.SendError{Message: "timeout", Err: context.DeadlineExceeded}
	if res = svc.sendOne(ctx, sms, a, withPhone); res.Outcome != alertstore.OutcomeFailed || !strings.Contains(res.Error, "not resent") {
		t.Fatalf("an answer that never came: %+v", res)
	}
	io.sendErr, io.allowErr = nil, &channels.SendError{Code: 503, Message: "down"}
	if res = svc.sendOne(ctx, sms, a, withPhone); res.Outcome != alertstore.OutcomeRetry {
		t.Fatalf("the profile lookup failed: %+v", res)
	}
	// An SMS-only alert never asks App IO, and records no channel.
	io.allowErr = nil
	before := len(io.sent)
	res = svc.sendOne(ctx, sms, alertstore.Alert{Comune: "firenze", TextIT: "x"}, withPhone)
	if res.Outcome != alertstore.OutcomeSent || res.Channel != "" || len(io.sent) != before {
		t.Fatalf("SMS only: %+v", res)
	}
	// App IO for a comune without a key is refused when the alert is composed.
	if _, err := svc.Compose("empoli", AlertRequest{Category: "blocco-traffico", Message: "m", Channels: []string{"app_io"}}); err == nil {
		t.Fatal("App IO accepted for a comune without a key")
	}
	if got, err := svc.Compose("firenze", AlertRequest{Category: "blocco-traffico", Message: "m", Channels: []string{"SMS"}}); err != nil || got.Channels != nil {
		t.Fatalf("SMS only is stored as the default: %+v %v", got.Channels, err)
	}
}

// A citizen subscribed by fiscal code keeps getting App IO alerts while the subscription by
// phone the comune adds waits for its SI (which never comes for a number that said STOP); once
// confirmed, that one stands alone for the citizen; removing by fiscal code removes both.
func TestAPhoneAddedToAnAppIOSubscriberWaitsForItsSI(t *testing.T) {
	ctx := context.Background()
	const cf = "RSSMRA85T10A562S"
	by := alertstore.ConsentActor{Via: alertstore.ViaAPI, Actor: "apikey:k"}
	chans := []string{alertstore.ChannelAppIO, alertstore.ChannelSMS}
	audience := func(t *testing.T, f *fixture) int {
		t.Helper()
		n, err := f.as.CountAudienceFor(ctx, "firenze", nil, chans)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	newSubscriber := func(t *testing.T) *fixture {
		f := newFixture(t, 1000, 100, func(o *Options) { o.AppIO = &fakeAppIO{allowed: map[string]bool{cf: true}} })
		if _, err := f.svc.Subscribe(ctx, "firenze", SubscriptionRequest{FiscalCode: cf}, by, RateCharge{}); err != nil {
			t.Fatal(err)
		}
		return f
	}

	t.Run("a number that said STOP", func(t *testing.T) {
		f := newSubscriber(t)
		const phone = "+393471119999"
		handle(t, f, "SM"+strings.Repeat("1", 32), phone, sharedNo, "STOP")
		if _, err := f.svc.Subscribe(ctx, "firenze", SubscriptionRequest{Phone: phone, FiscalCode: cf}, by, RateCharge{}); err != nil {
			t.Fatal(err)
		}
		if n := audience(t, f); n != 1 {
			t.Fatalf("audience %d, want the App IO subscriber still in it", n)
		}
		v, err := f.svc.GetSubscriber(ctx, "firenze", cf)
		if err != nil || v.Status != alertstore.SubscriberConfirmed {
			t.Fatalf("by fiscal code: %+v %v, want the confirmed subscription", v, err)
		}
		// Subscribing by fiscal code again changes that one, not the pending one.
		if v, err := f.svc.Subscribe(ctx, "firenze", SubscriptionRequest{FiscalCode: cf, Topics: []string{"traffico"}}, by, RateCharge{}); err != nil || v.Status != alertstore.SubscriberConfirmed {
			t.Fatalf("again by fiscal code: %+v %v", v, err)
		}
		if err := f.svc.RemoveSubscriber(ctx, "firenze", cf, by); err != nil {
			t.Fatal(err)
		}
		keys, err := f.as.SubscriptionsOfFiscalCode(ctx, "firenze", cf)
		if err != nil || len(keys) != 0 {
			t.Fatalf("after removal by fiscal code: %q %v, want none", keys, err)
		}
	})

	t.Run("a number that confirms", func(t *testing.T) {
		f := newSubscriber(t)
		const phone = "+393471118888"
		if _, err := f.svc.Subscribe(ctx, "firenze", SubscriptionRequest{Phone: phone, FiscalCode: cf}, by, RateCharge{}); err != nil {
			t.Fatal(err)
		}
		if n := audience(t, f); n != 1 {
			t.Fatalf("audience before the SI %d, want 1", n)
		}
		if reply, handled := handle(t, f, "SM"+strings.Repeat("2", 32), phone, sharedNo, "SI"); !handled || reply == "" {
			t.Fatalf("SI: %q %v", reply, handled)
		}
		if n := audience(t, f); n != 1 {
			t.Fatalf("audience after the SI %d, want 1 (the citizen once, not twice)", n)
		}
		keys, err := f.as.SubscriptionsOfFiscalCode(ctx, "firenze", cf)
		if err != nil || len(keys) != 1 || keys[0] != phone {
			t.Fatalf("subscriptions of the fiscal code %q %v, want only %s", keys, err, phone)
		}
	})
}
