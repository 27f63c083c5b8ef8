package integration

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

// Attacks on the alerts' SMS through the real HTTP stack: the comuni API and the signed
// Twilio webhooks, with the Twilio emulator counting what reached each number.

// alertsYAMLRate is the alerts test configuration with a per-key limit.
func alertsYAMLRate(perMinute int) string {
	return strings.Replace(alertsYAML(500, 100), "requests_per_minute: 600", fmt.Sprintf("requests_per_minute: %d", perMinute), 1)
}

// confirmJobsSettled waits until every confirmation job has run and returns how many there were.
func confirmJobsSettled(t *testing.T, gw *harness.Gateway) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var total, open int
		err := gw.G.Store.QueryRow(context.Background(), `SELECT COUNT(*), COALESCE(SUM(CASE WHEN state = 'completed' THEN 0 ELSE 1 END), 0)
			FROM river_job WHERE kind = 'alert_subscription_confirm'`).Scan(&total, &open)
		if err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			return total
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d confirmation jobs still not done", open, total)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Issue 8 item 3: repeating POST /api/v1/subscribers, from one comune's key or from several,
// sends one confirmation SMS a day to a number, not one per call.
func TestSubscriberRequestsCannotSMSBomb(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		gw := harness.Start(t, harness.Options{Dialect: d, Replace: alertsYAMLRate(1000)})
		firenze, empoli := alertKey(t, gw, "firenze"), alertKey(t, gw, "empoli")
		victim := "+393471230001"
		// The first request is sent (waited for, so that a DELETE below cannot cancel it first).
		if code, out := alertCall(t, "POST", gw.URL+"/api/v1/subscribers", firenze, map[string]any{"phone": victim}, ""); code != 202 {
			t.Fatalf("first request: %d %v", code, out)
		}
		confirmJobsSettled(t, gw)
		for i := 0; i < 15; i++ {
			for _, key := range []string{firenze, empoli} {
				code, out := alertCall(t, "POST", gw.URL+"/api/v1/subscribers", key, map[string]any{"phone": victim}, "")
				if code != 202 || out["status"] != "pending" {
					t.Fatalf("request %d: %d %v", i, code, out)
				}
			}
			// Deleting and asking again must not reset the allowance either.
			if code, _ := alertCall(t, "DELETE", gw.URL+"/api/v1/subscribers/"+victim, firenze, nil, ""); code != 204 {
				t.Fatalf("delete %d: %d", i, code)
			}
		}
		if code, out := alertCall(t, "POST", gw.URL+"/api/v1/subscribers", firenze, map[string]any{"phone": victim}, ""); code != 202 {
			t.Fatalf("last request: %d %v", code, out)
		}
		if jobs := confirmJobsSettled(t, gw); jobs != 1 {
			t.Fatalf("%d confirmation jobs, want 1", jobs)
		}
		if n := gw.Twilio.CountTo(victim); n != 1 {
			t.Fatalf("the number got %d confirmation SMS, want 1", n)
		}
		// The one request sent is still good for Firenze: a bare SI confirms it.
		if reply := alertSMS(t, gw, "", victim, harness.TwilioFrom, "SI"); !strings.Contains(reply, "Comune di Firenze") || strings.Contains(reply, "Empoli") {
			t.Fatalf("SI after the flood: %q", reply)
		}
	})
}

// Issue 8 item 3: each confirmation SMS counts against the key's limit, so a key's limit
// bounds the SMS it causes as well as its requests.
func TestRateLimitCountsConfirmations(t *testing.T) {
	gw := harness.Start(t, harness.Options{Replace: alertsYAMLRate(6)})
	key := alertKey(t, gw, "firenze")
	for i := 0; i < 3; i++ { // a request and a confirmation each: 6 units
		if code, out := alertCall(t, "POST", gw.URL+"/api/v1/subscribers", key, map[string]any{"phone": fmt.Sprintf("+39347123100%d", i)}, ""); code != 202 {
			t.Fatalf("subscriber %d: %d %v", i, code, out)
		}
	}
	code, out := alertCall(t, "POST", gw.URL+"/api/v1/subscribers", key, map[string]any{"phone": "+393471231009"}, "")
	if code != 429 || errCode(out) != "rate_limited" {
		t.Fatalf("a fourth subscriber after three confirmations: %d %v", code, out)
	}
	if jobs := confirmJobsSettled(t, gw); jobs != 3 || gw.Twilio.Count() != 3 {
		t.Fatalf("%d jobs, %d SMS: want 3", jobs, gw.Twilio.Count())
	}
	// The refused request changed nothing.
	if code, _ := alertCall(t, "GET", gw.URL+"/api/v1/subscribers/+393471231009", alertKey(t, gw, "firenze"), nil, ""); code != 404 {
		t.Fatalf("the refused subscriber exists: %d", code)
	}
}

// Issue 9: the per-key limit holds for the deployment. Two gateways on one PostgreSQL database
// with requests_per_minute 10 admit 10 requests of a key between them, not 20.
func TestRateLimitAcrossReplicas(t *testing.T) {
	dbURL := ""
	var gws []*harness.Gateway
	for i := 0; i < 2; i++ {
		gw := harness.Start(t, harness.Options{Dialect: store.Postgres, DatabaseURL: dbURL, Replace: alertsYAMLRate(10)})
		dbURL = gw.DatabaseURL
		gws = append(gws, gw)
	}
	key := alertKey(t, gws[0], "firenze")
	allowed := 0
	for i := 0; i < 20; i++ {
		code, out := alertCall(t, "GET", gws[i%2].URL+"/api/v1/alerts", key, nil, "")
		switch code {
		case 200:
			allowed++
		case 429:
			if errCode(out) != "rate_limited" {
				t.Fatalf("429 without its code: %v", out)
			}
		default:
			t.Fatalf("request %d: %d %v", i, code, out)
		}
	}
	// One unit comes back every 6 s: a slow run on a loaded machine may earn one or two more.
	if allowed < 10 || allowed > 12 {
		t.Fatalf("%d requests admitted across two replicas, want 10", allowed)
	}
}

// operatorContacts lists the contacts whose text contains q, through the operator API.
func operatorContacts(t *testing.T, gw *harness.Gateway, token, q string) []map[string]any {
	t.Helper()
	var out struct {
		Items []map[string]any `json:"items"`
	}
	if code := harness.API(t, "GET", gw.URL+"/api/v1/contacts?q="+url.QueryEscape(q), token, nil, &out); code != 200 {
		t.Fatalf("contacts: %d", code)
	}
	return out.Items
}

// Issue 8 item 7: a "Sì" that is part of a sentence, or sent to another comune's number, or
// long after the request, confirms nothing and reaches the operators.
func TestStraySiConfirmsNothing(t *testing.T) {
	gw := harness.Start(t, harness.Options{Replace: alertsYAMLRate(600)})
	key := alertKey(t, gw, "firenze")
	token := gw.User(t, "sup", store.RoleSupervisor)
	citizen := "+393471232001"
	if code, out := alertCall(t, "POST", gw.URL+"/api/v1/subscribers", key, map[string]any{"phone": citizen}, ""); code != 202 {
		t.Fatalf("request: %d %v", code, out)
	}
	subStatus := func() string {
		t.Helper()
		_, out := alertCall(t, "GET", gw.URL+"/api/v1/subscribers/"+citizen, key, nil, "")
		s, _ := out["status"].(string)
		return s
	}
	// A sentence starting with Sì, to Empoli: a message for the operators, and nothing confirmed.
	sentence := "Sì, confermo l'appuntamento di domani alle 10"
	if reply := alertSMS(t, gw, "", citizen, alEmpoli, sentence); reply != "" {
		t.Fatalf("a sentence was answered as a command: %q", reply)
	}
	if st := subStatus(); st != "pending" {
		t.Fatalf("the sentence confirmed the Firenze subscription: %s", st)
	}
	if items := operatorContacts(t, gw, token, "appuntamento"); len(items) != 1 || items[0]["body"] != sentence {
		t.Fatalf("the citizen's message did not reach the operators: %v", items)
	}
	// A bare SÌ to Empoli's own number does not confirm Firenze's request.
	alertSMS(t, gw, "", citizen, alEmpoli, "SÌ")
	if st := subStatus(); st != "pending" {
		t.Fatalf("an SI to Empoli confirmed Firenze: %s", st)
	}
	// Eight days later an SI is no longer an answer to the request.
	age := func(d time.Duration) {
		t.Helper()
		if err := gw.G.Store.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE subscribers SET asked_at = asked_at + ? WHERE phone = ?", d.Microseconds(), citizen)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	age(-8 * 24 * time.Hour)
	alertSMS(t, gw, "", citizen, alShared, "si")
	if st := subStatus(); st != "pending" {
		t.Fatalf("an SI eight days later confirmed: %s", st)
	}
	// Within the week, a bare "Sì!" to the shared number confirms.
	age(8 * 24 * time.Hour)
	if reply := alertSMS(t, gw, "", citizen, alShared, " Sì! "); !strings.Contains(reply, "Comune di Firenze") {
		t.Fatalf("a bare SI was not taken: %q", reply)
	}
	if st := subStatus(); st != "confirmed" {
		t.Fatalf("status %s after a bare SI", st)
	}
}

// Issue 8, lower risk: a fullwidth "ＳＴＯＰ" is a STOP.
func TestFullwidthStop(t *testing.T) {
	gw := harness.Start(t, harness.Options{Replace: alertsYAMLRate(600)})
	key := alertKey(t, gw, "firenze")
	citizen := "+393471233002"
	alertSMS(t, gw, "", citizen, alFirenze, "ISCRIVI")
	if reply := alertSMS(t, gw, "", citizen, alFirenze, "ＳＴＯＰ"); !strings.Contains(reply, "più") {
		t.Fatalf("fullwidth STOP not recognised: %q", reply)
	}
	if code, out := alertCall(t, "GET", gw.URL+"/api/v1/subscribers/"+citizen, key, nil, ""); code != 200 || out["status"] != "stopped" {
		t.Fatalf("after ＳＴＯＰ: %d %v", code, out)
	}
}

// Issue 8, lower risk: a STOP said to one comune is not revealed to another by the
// subscribers API (answered as pending), and nothing is sent to the number.
func TestNoOptOutLeak(t *testing.T) {
	gw := harness.Start(t, harness.Options{Replace: alertsYAMLRate(600)})
	empoli := alertKey(t, gw, "empoli")
	citizen := "+393471233001"
	alertSMS(t, gw, "", citizen, alFirenze, "ISCRIVI")
	alertSMS(t, gw, "", citizen, alFirenze, "STOP")
	code, out := alertCall(t, "POST", gw.URL+"/api/v1/subscribers", empoli, map[string]any{"phone": citizen}, "")
	if code != 202 || out["status"] != "pending" {
		t.Fatalf("Empoli asking for a STOPped number: %d %v", code, out)
	}
	code, out = alertCall(t, "GET", gw.URL+"/api/v1/subscribers/"+citizen, empoli, nil, "")
	if code != 200 || out["status"] != "pending" || strings.Contains(fmt.Sprint(out["consents"]), "stop") {
		t.Fatalf("Empoli sees the STOP: %d %v", code, out)
	}
	if jobs := confirmJobsSettled(t, gw); jobs != 0 {
		t.Fatalf("%d confirmation jobs for a STOPped number", jobs)
	}
	// The ISCRIVI and STOP answers are TwiML replies, not REST sends: nothing at all.
	if n := gw.Twilio.CountTo(citizen); n != 0 {
		t.Fatalf("%d SMS sent to a STOPped number", n)
	}
}
