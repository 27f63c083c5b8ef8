package alerts

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/store/alertstore"
)

const (
	citizen   = "+393471112233"
	firenzeNo = "+390552768000"
	sharedNo  = "+39055055"
)

func handle(t *testing.T, f *fixture, sid, from, to, body string) (string, bool) {
	t.Helper()
	reply, handled, err := f.svc.HandleSMS(context.Background(), sms(sid, from, to, body))
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return reply, handled
}

func status(t *testing.T, f *fixture, comune, phone string) string {
	t.Helper()
	sb, err := f.as.Subscriber(context.Background(), comune, phone)
	if err != nil {
		return "none"
	}
	return sb.Status
}

func TestKeywordFlows(t *testing.T) {
	f := newFixture(t, 1000, 100)
	ctx := context.Background()

	// Not a command: for the operators, and no database work.
	if _, handled := handle(t, f, "SM1", citizen, firenzeNo, "Buongiorno, domani c'è il blocco?"); handled {
		t.Fatal("a question was taken as a command")
	}
	// ISCRIVI to a comune's own number: that comune, confirmed at once.
	reply, handled := handle(t, f, "SM2", citizen, firenzeNo, "iscrivi")
	if !handled || !strings.Contains(reply, "Comune di Firenze") || status(t, f, "firenze", citizen) != alertstore.SubscriberConfirmed {
		t.Fatalf("%q %v %s", reply, handled, status(t, f, "firenze", citizen))
	}
	// To the shared number, the comune must be named.
	reply, _ = handle(t, f, "SM3", "+393479998877", sharedNo, "ISCRIVI")
	if !strings.Contains(reply, "ISCRIVI") || !strings.Contains(reply, "Sesto Fiorentino") || status(t, f, "firenze", "+393479998877") != "none" {
		t.Fatalf("shared number without comune: %q", reply)
	}
	reply, _ = handle(t, f, "SM4", "+393479998877", sharedNo, "Iscrivi al comune di Sesto Fiorentino TRAFFICO")
	sb, _ := f.as.Subscriber(ctx, "sesto-fiorentino", "+393479998877")
	if sb.Status != alertstore.SubscriberConfirmed || strings.Join(sb.Topics, ",") != "traffico" || !strings.Contains(reply, "traffico") {
		t.Fatalf("%q %+v", reply, sb)
	}
	// English keyword: English answers and alerts.
	reply, _ = handle(t, f, "SM5", "+393475556666", sharedNo, "subscribe empoli")
	sb, _ = f.as.Subscriber(ctx, "empoli", "+393475556666")
	if sb.Lang != "en" || !strings.HasPrefix(reply, "Subscribed") {
		t.Fatalf("%q %+v", reply, sb)
	}
	// An unknown topic changes nothing and lists the topics.
	reply, _ = handle(t, f, "SM6", "+393470000007", firenzeNo, "ISCRIVI firenze parcheggi")
	if !strings.Contains(reply, "parcheggi") || !strings.Contains(reply, "traffico, scuole") || status(t, f, "firenze", "+393470000007") != "none" {
		t.Fatalf("%q", reply)
	}
	// STOP: every subscription of the number, one consent record, nothing queued stays.
	handle(t, f, "SM7", citizen, sharedNo, "ISCRIVI EMPOLI")
	reply, handled = handle(t, f, "SM8", citizen, sharedNo, "Stop")
	if !handled || !strings.Contains(reply, "più") || status(t, f, "firenze", citizen) != alertstore.SubscriberStopped || status(t, f, "empoli", citizen) != alertstore.SubscriberStopped {
		t.Fatalf("stop: %q", reply)
	}
	// A redelivered ISCRIVI webhook must not undo the STOP.
	reply2, _ := handle(t, f, "SM7", citizen, sharedNo, "ISCRIVI EMPOLI")
	if status(t, f, "empoli", citizen) != alertstore.SubscriberStopped || !strings.Contains(reply2, "Empoli") {
		t.Fatalf("a redelivery acted again: %s %q", status(t, f, "empoli", citizen), reply2)
	}
	cs, _ := f.as.Consents(ctx, "empoli", citizen)
	if len(cs) != 2 || cs[0].Action != alertstore.ConsentSubscribe || cs[1].Action != alertstore.ConsentStop || cs[1].Via != alertstore.ViaSMS || cs[1].Actor != citizen {
		t.Fatalf("consents %+v", cs)
	}
	// The citizen may subscribe again by texting ISCRIVI.
	handle(t, f, "SM9", citizen, firenzeNo, "ISCRIVI")
	if status(t, f, "firenze", citizen) != alertstore.SubscriberConfirmed {
		t.Fatal("ISCRIVI after STOP did not subscribe")
	}
	// HELP in both languages.
	if reply, _ := handle(t, f, "SM10", citizen, firenzeNo, "aiuto"); !strings.Contains(reply, "ISCRIVI") {
		t.Fatalf("%q", reply)
	}
	if reply, _ := handle(t, f, "SM11", citizen, firenzeNo, "HELP"); !strings.Contains(reply, "SUBSCRIBE") {
		t.Fatalf("%q", reply)
	}
}

func TestConfirmationBySMS(t *testing.T) {
	f := newFixture(t, 1000, 100)
	ctx := context.Background()
	// SI with nothing pending is an answer for an operator.
	if _, handled := handle(t, f, "SM1", citizen, firenzeNo, "Sì"); handled {
		t.Fatal("SI without a pending subscription was handled")
	}
	v, err := f.svc.RequestSubscription(ctx, "firenze", "347 111 2233", []string{"Traffico"}, "", alertstore.ConsentActor{Via: alertstore.ViaAPI, Actor: "apikey:k1"}, RateCharge{})
	if err != nil || v.Status != alertstore.SubscriberPending || v.Phone != citizen || strings.Join(v.Topics, ",") != "traffico" {
		t.Fatalf("%+v %v", v, err)
	}
	var n int
	if err := f.s.QueryRow(ctx, "SELECT COUNT(*) FROM river_job WHERE kind = 'alert_subscription_confirm'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("confirmation job %d %v", n, err)
	}
	// An SI to a number that is neither a comune's nor ours confirms nothing.
	if _, handled := handle(t, f, "SM1b", citizen, "+390000000001", "SI"); handled || status(t, f, "firenze", citizen) != alertstore.SubscriberPending {
		t.Fatalf("an SI to an unserved number confirmed: %v %s", handled, status(t, f, "firenze", citizen))
	}
	reply, handled := handle(t, f, "SM2", citizen, sharedNo, "SI")
	if !handled || !strings.Contains(reply, "Comune di Firenze") || status(t, f, "firenze", citizen) != alertstore.SubscriberConfirmed {
		t.Fatalf("%q %v", reply, handled)
	}
	// Landlines and non-numbers are refused; a STOPped number is not the comune's to subscribe.
	if _, err := f.svc.RequestSubscription(ctx, "firenze", "055 2768000", nil, "", alertstore.ConsentActor{Via: alertstore.ViaAPI}, RateCharge{}); !isCode(err, "not_mobile") {
		t.Fatalf("landline: %v", err)
	}
	if _, err := f.svc.RequestSubscription(ctx, "firenze", "call me", nil, "", alertstore.ConsentActor{Via: alertstore.ViaAPI}, RateCharge{}); !isCode(err, "invalid_phone") {
		t.Fatalf("garbage: %v", err)
	}
	if _, err := f.svc.RequestSubscription(ctx, "firenze", citizen, []string{"meteo"}, "", alertstore.ConsentActor{Via: alertstore.ViaAPI}, RateCharge{}); !isCode(err, "unknown_topic") {
		t.Fatalf("topic: %v", err)
	}
	// A number that said STOP is answered as pending, like any other, and gets no request.
	handle(t, f, "SM3", citizen, sharedNo, "STOP")
	v, err = f.svc.RequestSubscription(ctx, "empoli", citizen, nil, "", alertstore.ConsentActor{Via: alertstore.ViaAPI}, RateCharge{})
	if err != nil || v.Status != alertstore.SubscriberPending {
		t.Fatalf("opted out: %+v %v", v, err)
	}
	for _, c := range v.Consents {
		if c.Action == alertstore.ConsentStop {
			t.Fatalf("another comune sees the STOP: %+v", v.Consents)
		}
	}
	if err := f.s.QueryRow(ctx, "SELECT COUNT(*) FROM river_job WHERE kind = 'alert_subscription_confirm'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("confirmation jobs %d %v, want still 1", n, err)
	}
	// And an SI does not confirm what no request was sent for.
	if _, handled := handle(t, f, "SM4", citizen, sharedNo, "SI"); handled || status(t, f, "empoli", citizen) != alertstore.SubscriberPending {
		t.Fatalf("SI confirmed a subscription never asked: %v %s", handled, status(t, f, "empoli", citizen))
	}
}

func isCode(err error, code string) bool {
	re, ok := err.(*RequestError)
	return ok && re.Code == code
}

func TestBloccoAnswersActiveTrafficAlerts(t *testing.T) {
	f := newFixture(t, 1000, 100)
	ctx := context.Background()
	reply, handled := handle(t, f, "SM1", citizen, firenzeNo, "BLOCCO")
	if !handled || !strings.Contains(reply, "nessun blocco") {
		t.Fatalf("%q", reply)
	}
	exp := time.Now().Add(time.Hour)
	if _, _, err := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: TrafficCategory, Message: "Domani blocco Euro 0-4.", ExpiresAt: &exp, Source: "api"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.CreateAlert(ctx, "empoli", AlertRequest{Category: TrafficCategory, Message: "Empoli: via Roma chiusa.", Source: "api"}); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(time.Hour)
	cancelled, _, err := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: TrafficCategory, Message: "Annullato.", ExpiresAt: &past, Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CancelAlert(ctx, "firenze", cancelled.ID); err != nil {
		t.Fatal(err)
	}
	reply, _ = handle(t, f, "SM2", citizen, firenzeNo, "Traffico")
	if !strings.Contains(reply, "Domani blocco Euro 0-4.") || strings.Contains(reply, "Empoli") || strings.Contains(reply, "Annullato") {
		t.Fatalf("%q", reply)
	}
	// The comune named in the text wins over the number texted.
	reply, _ = handle(t, f, "SM3", citizen, firenzeNo, "blocco a empoli?")
	if !strings.Contains(reply, "via Roma") {
		t.Fatalf("%q", reply)
	}
	// Shared number, no name, no subscription: ask.
	reply, _ = handle(t, f, "SM4", citizen, sharedNo, "BLOCCO")
	if !strings.Contains(reply, "BLOCCO") || !strings.Contains(reply, "Empoli") {
		t.Fatalf("%q", reply)
	}
	list, err := f.svc.ActiveTrafficAlerts(ctx, "firenze")
	if err != nil || len(list) != 1 || list[0] != "Domani blocco Euro 0-4." {
		t.Fatalf("%q %v", list, err)
	}
}

// An automated sender whose messages start with a keyword, and that answers everything, would
// keep both sides texting each other, each turn a paid SMS: a number's keyword answers are
// bounded, while its commands still act (a STOP always stops), and another number, or the same
// one an hour later, is answered.
func TestKeywordAnswersToOneNumberAreBounded(t *testing.T) {
	f := newFixture(t, 1000, 100)
	const bot = "+393400000042"
	answered := 0
	for i := range 30 {
		reply, handled := handle(t, f, fmt.Sprintf("SM%032d", i), bot, firenzeNo, "Info: questo numero non accetta risposte.")
		if !handled {
			t.Fatalf("message %d: a keyword left unhandled became a contact", i)
		}
		if reply != "" {
			answered++
		}
	}
	if answered != keywordReplies.Limit {
		t.Fatalf("%d of 30 keyword messages answered, want %d", answered, keywordReplies.Limit)
	}
	if reply, handled := handle(t, f, fmt.Sprintf("SM%032d", 100), bot, firenzeNo, "STOP"); !handled || reply != "" {
		t.Fatalf("STOP past the limit: %q handled %v, want handled without an answer", reply, handled)
	}
	if out, err := f.as.IsOptedOut(context.Background(), bot); err != nil || !out {
		t.Fatalf("STOP past the limit did not stop the number: %v %v", out, err)
	}
	if reply, _ := handle(t, f, fmt.Sprintf("SM%032d", 101), "+393400000043", firenzeNo, "AIUTO"); reply == "" {
		t.Fatal("another number's keyword went unanswered")
	}
	f.clock.Advance(time.Hour)
	if reply, _ := handle(t, f, fmt.Sprintf("SM%032d", 102), bot, firenzeNo, "AIUTO"); reply == "" {
		t.Fatal("an hour later the number is still not answered")
	}
}

// A comune's key causes a confirmation SMS with every request: only numbers of the regions of
// alerts.sms_countries are taken, so a leaked key cannot text foreign premium ranges.
func TestSubscriptionRequestsOnlyForNumbersOfTheAllowedRegions(t *testing.T) {
	ctx := context.Background()
	by := alertstore.ConsentActor{Via: alertstore.ViaAPI, Actor: "apikey:k"}
	f := newFixture(t, 1000, 100)
	for _, foreign := range []string{"+447400123456", "+2348031234567"} {
		if _, err := f.svc.RequestSubscription(ctx, "firenze", foreign, nil, "", by, RateCharge{}); !isCode(err, "country_not_allowed") {
			t.Fatalf("%s: %v, want country_not_allowed", foreign, err)
		}
	}
	var n int
	if err := f.s.QueryRow(ctx, "SELECT COUNT(*) FROM river_job WHERE kind = 'alert_subscription_confirm'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("confirmation jobs %d %v, want none", n, err)
	}
	if v, err := f.svc.RequestSubscription(ctx, "firenze", "+393471234567", nil, "", by, RateCharge{}); err != nil || v.Status != alertstore.SubscriberPending {
		t.Fatalf("an Italian mobile: %+v %v", v, err)
	}
	f.cfg.Alerts.SMSCountries = []string{"IT", "GB"}
	if _, err := f.svc.RequestSubscription(ctx, "firenze", "+447400123456", nil, "", by, RateCharge{}); err != nil {
		t.Fatalf("a British mobile with GB allowed: %v", err)
	}
}
