package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

const (
	alFirenze = "+390552768000"
	alEmpoli  = "+39057175761"
	alShared  = "+39055055"
)

// ISCRIVI -> alert received -> STOP -> nothing received; and the API's pending subscription
// confirmed by SI, all through the Twilio emulator.
func TestAlertsKeywordFlowThroughTwilio(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		gw := alertsGateway(t, d, 200, 100)
		key := alertKey(t, gw, "firenze")
		anna, bruno := "+393471000001", "+393471000002"

		reply := alertSMS(t, gw, "", anna, alFirenze, "iscrivi traffico")
		if !strings.Contains(reply, "Comune di Firenze") || !strings.Contains(reply, "traffico") {
			t.Fatalf("ISCRIVI reply %q", reply)
		}
		// Pending through the API: the confirmation request goes out by SMS.
		code, out := alertCall(t, "POST", gw.URL+"/api/v1/subscribers", key, map[string]any{"phone": "347 100 0002", "topics": []string{"traffico"}}, "")
		if code != 202 || out["status"] != "pending" || out["phone"] != bruno {
			t.Fatalf("POST subscribers: %d %v", code, out)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := gw.Twilio.WaitFor(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if m := gw.Twilio.Messages()[0]; m.To != bruno || !strings.Contains(m.Body, "SI") {
			t.Fatalf("confirmation request %+v", m)
		}
		// Pending subscribers get nothing.
		code, out = alertCall(t, "POST", gw.URL+"/api/v1/alerts", key, map[string]any{"category": "blocco-traffico", "message": "Primo avviso", "topics": []string{"traffico"}}, "")
		if code != 202 || out["recipients"].(float64) != 1 {
			t.Fatalf("first alert: %d %v", code, out)
		}
		waitAlert(t, gw, key, out["id"].(string), 20*time.Second, func(st string, c alertCounts) bool { return c.Delivered == 1 })
		if reply := alertSMS(t, gw, "", bruno, alShared, "Sì"); !strings.Contains(reply, "Comune di Firenze") {
			t.Fatalf("SI reply %q", reply)
		}
		code, out = alertCall(t, "POST", gw.URL+"/api/v1/alerts", key, map[string]any{"category": "blocco-traffico", "message": "Secondo avviso"}, "")
		if code != 202 || out["recipients"].(float64) != 2 {
			t.Fatalf("second alert: %d %v", code, out)
		}
		waitAlert(t, gw, key, out["id"].(string), 20*time.Second, func(st string, c alertCounts) bool { return c.Delivered == 2 && st == "sent" })
		// STOP wins: nothing more reaches Anna.
		if reply := alertSMS(t, gw, "", anna, alFirenze, "STOP"); !strings.Contains(reply, "più") {
			t.Fatalf("STOP reply %q", reply)
		}
		code, out = alertCall(t, "POST", gw.URL+"/api/v1/alerts", key, map[string]any{"category": "blocco-traffico", "message": "Terzo avviso"}, "")
		if code != 202 || out["recipients"].(float64) != 1 {
			t.Fatalf("third alert: %d %v", code, out)
		}
		waitAlert(t, gw, key, out["id"].(string), 20*time.Second, func(st string, c alertCounts) bool { return c.Delivered == 1 && st == "sent" })
		if n := gw.Twilio.CountTo(anna); n != 2 {
			t.Fatalf("Anna got %d messages, want 2 (nothing after STOP)", n)
		}
		if n := gw.Twilio.CountTo(bruno); n != 3 {
			t.Fatalf("Bruno got %d messages, want the request and two alerts", n)
		}
		// The consent trail says how, when and by whom.
		code, out = alertCall(t, "GET", gw.URL+"/api/v1/subscribers/"+anna, key, nil, "")
		cs, _ := out["consents"].([]any)
		if code != 200 || out["status"] != "stopped" || len(cs) != 2 {
			t.Fatalf("GET subscriber: %d %v", code, out)
		}
		// The API cannot undo a STOP: the request is answered as pending, and nothing is sent.
		code, out = alertCall(t, "POST", gw.URL+"/api/v1/subscribers", key, map[string]any{"phone": anna}, "")
		if code != 202 || out["status"] != "pending" {
			t.Fatalf("re-subscribing a STOP: %d %v", code, out)
		}
		code, out = alertCall(t, "GET", gw.URL+"/api/v1/subscribers/"+anna, key, nil, "")
		cs, _ = out["consents"].([]any)
		if code != 200 || out["status"] != "pending" || len(cs) != 3 {
			t.Fatalf("GET subscriber: %d %v", code, out)
		}
		// BLOCCO answers with the alerts in force, accent- and case-insensitively.
		if reply := alertSMS(t, gw, "", "+393471000003", alFirenze, "blocco?"); !strings.Contains(reply, "Terzo avviso") || !strings.Contains(reply, "Primo avviso") {
			t.Fatalf("BLOCCO reply %q", reply)
		}
		// The phone menu reads them before the operator.
		resp, twiml := harnessVoiceMenu(t, gw, alFirenze)
		if resp != 200 || !strings.Contains(twiml, `<Say language="it-IT">Terzo avviso</Say>`) {
			t.Fatalf("voice menu: %d %s", resp, twiml)
		}
	})
}

// Two comuni: a key sees and touches only its own comune.
func TestAlertsScopingBetweenComuni(t *testing.T) {
	gw := alertsGateway(t, store.SQLite, 500, 100)
	fk, ek := alertKey(t, gw, "firenze"), alertKey(t, gw, "empoli")
	alertSubscribers(t, gw, "empoli", "+39348", 3)
	code, out := alertCall(t, "POST", gw.URL+"/api/v1/alerts", ek, map[string]any{"category": "altro", "message": "Solo Empoli"}, "")
	if code != 202 {
		t.Fatalf("%d %v", code, out)
	}
	id := out["id"].(string)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/alerts/" + id},
		{"POST", "/api/v1/alerts/" + id + "/cancel"},
		{"GET", "/api/v1/subscribers/+393480000001"},
		{"DELETE", "/api/v1/subscribers/+393480000001"},
	} {
		code, out := alertCall(t, c.method, gw.URL+c.path, fk, nil, "")
		if code != 404 || errCode(out) != "not_found" {
			t.Errorf("firenze's key on %s %s: %d %v", c.method, c.path, code, out)
		}
	}
	code, out = alertCall(t, "GET", gw.URL+"/api/v1/alerts", fk, nil, "")
	if items, _ := out["items"].([]any); code != 200 || len(items) != 0 {
		t.Fatalf("firenze lists %d %v", code, out)
	}
	code, out = alertCall(t, "GET", gw.URL+"/api/v1/alerts", ek, nil, "")
	if items, _ := out["items"].([]any); code != 200 || len(items) != 1 {
		t.Fatalf("empoli lists %d %v", code, out)
	}
	// Keys are required, must be live, and are not user tokens.
	if code, out := alertCall(t, "GET", gw.URL+"/api/v1/alerts", "", nil, ""); code != 401 || errCode(out) != "unauthorized" {
		t.Fatalf("no key: %d %v", code, out)
	}
	userToken := gw.User(t, "sup", store.RoleSupervisor)
	if code, _ := alertCall(t, "GET", gw.URL+"/api/v1/alerts", userToken, nil, ""); code != 401 {
		t.Fatalf("a user token used as a key: %d", code)
	}
	// And the other way: a key is not an operator token.
	if code, _ := alertCall(t, "GET", gw.URL+"/api/v1/contacts", ek, nil, ""); code != 401 {
		t.Fatalf("a key on the operator API: %d", code)
	}
	// The empoli alert still runs: firenze's cancel did nothing.
	waitAlert(t, gw, ek, id, 20*time.Second, func(st string, c alertCounts) bool { return st == "sent" && c.Sent+c.Delivered == 3 })
	// The OpenAPI document is public.
	if code, out := alertCall(t, "GET", gw.URL+"/api/v1/openapi.json", "", nil, ""); code != 200 || out["openapi"] != "3.1.0" {
		t.Fatalf("openapi: %d", code)
	}
}

// Bad input: a precise JSON error, and nothing queued.
func TestAlertsBadInput(t *testing.T) {
	gw := alertsGateway(t, store.SQLite, 500, 100)
	key := alertKey(t, gw, "firenze")
	alertSubscribers(t, gw, "firenze", "+39347", 2)
	past := time.Now().Add(-time.Hour).Format(time.RFC3339)
	soon := time.Now().Add(time.Hour).Format(time.RFC3339)
	cap11, _ := os.ReadFile("../alerts/cap/testdata/blocco.xml")
	cases := []struct {
		name   string
		body   any
		ct     string
		status int
		code   string
	}{
		{"empty message", map[string]any{"category": "altro", "message": " "}, "", 400, "empty_message"},
		{"too long", map[string]any{"category": "altro", "message": strings.Repeat("x", 1531)}, "", 400, "message_too_long"},
		{"unknown category", map[string]any{"category": "meteo", "message": "x"}, "", 400, "unknown_category"},
		{"missing category", map[string]any{"message": "x"}, "", 400, "missing_category"},
		{"unknown topic", map[string]any{"category": "altro", "message": "x", "topics": []string{"scuole"}}, "", 400, "unknown_topic"},
		{"send_at past", map[string]any{"category": "altro", "message": "x", "send_at": past}, "", 400, "send_at_in_past"},
		{"send_at garbage", map[string]any{"category": "altro", "message": "x", "send_at": "domani"}, "", 400, "invalid_send_at"},
		{"expires before send", map[string]any{"category": "altro", "message": "x", "send_at": soon, "expires_at": soon}, "", 400, "expires_before_send"},
		{"malformed json", `{"category": "altro", "message": `, "application/json", 400, "invalid_json"},
		{"wrong type", `{"category": "altro", "message": 12}`, "application/json", 400, "invalid_json"},
		{"unknown field", `{"category": "altro", "message": "x", "priority": 1}`, "application/json", 400, "unknown_field"},
		{"two objects", `{"category": "altro", "message": "x"} {}`, "application/json", 400, "invalid_json"},
		{"cap 1.1", strings.Replace(string(cap11), "cap:1.2", "cap:1.1", 1), "application/cap+xml", 400, "cap_not_1_2"},
		{"cap without sender", strings.Replace(string(cap11), "<sender>mobilita@comune.fi.it</sender>", "", 1), "application/cap+xml", 400, "cap_missing_field"},
		{"cap not xml", "blocco domani", "application/cap+xml", 400, "invalid_cap"},
		{"form", "message=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
	}
	for _, c := range cases {
		code, out := alertCall(t, "POST", gw.URL+"/api/v1/alerts", key, c.body, c.ct)
		msg, _ := out["error"].(map[string]any)["message"].(string)
		if code != c.status || errCode(out) != c.code || msg == "" {
			t.Errorf("%s: %d %v, want %d %s", c.name, code, out, c.status, c.code)
		}
	}
	code, out := alertCall(t, "GET", gw.URL+"/api/v1/alerts", key, nil, "")
	if items, _ := out["items"].([]any); code != 200 || len(items) != 0 {
		t.Fatalf("something was stored: %v", out)
	}
	for _, c := range []struct {
		body any
		code string
	}{
		{map[string]any{"phone": "055 2768000"}, "not_mobile"},
		{map[string]any{"phone": "chiamami"}, "invalid_phone"},
		{map[string]any{"phone": "3471234567", "topics": []string{"meteo"}}, "unknown_topic"},
		{map[string]any{}, "missing_phone"},
	} {
		code, out := alertCall(t, "POST", gw.URL+"/api/v1/subscribers", key, c.body, "")
		if code != 400 || errCode(out) != c.code {
			t.Errorf("subscriber %v: %d %v, want %s", c.body, code, out, c.code)
		}
	}
	if code, out := alertCall(t, "GET", gw.URL+"/api/v1/alerts/nope", key, nil, ""); code != 404 || errCode(out) != "not_found" {
		t.Fatalf("unknown alert: %d %v", code, out)
	}
	if code, out := alertCall(t, "GET", gw.URL+"/api/v1/alerts?cursor=zzz", key, nil, ""); code != 400 || errCode(out) != "invalid_cursor" {
		t.Fatalf("bad cursor: %d %v", code, out)
	}
	if gw.Twilio.Count() != 0 {
		t.Fatalf("%d messages went out", gw.Twilio.Count())
	}
}

// CAP 1.2: create, update (replaces), cancel, through the HTTP API.
func TestAlertsCAPCreateUpdateCancel(t *testing.T) {
	gw := alertsGateway(t, store.SQLite, 500, 100)
	key := alertKey(t, gw, "firenze")
	alertSubscribers(t, gw, "firenze", "+39347", 5)
	doc, err := os.ReadFile("../alerts/cap/testdata/blocco.xml")
	if err != nil {
		t.Fatal(err)
	}
	code, out := alertCall(t, "POST", gw.URL+"/api/v1/alerts", key, string(doc), "application/cap+xml")
	if code != 202 || out["action"] != "created" || out["recipients"].(float64) != 5 {
		t.Fatalf("CAP Alert: %d %v", code, out)
	}
	first := out["id"].(string)
	waitAlert(t, gw, key, first, 20*time.Second, func(st string, c alertCounts) bool { return c.Delivered == 5 })
	code, out = alertCall(t, "GET", gw.URL+"/api/v1/alerts/"+first, key, nil, "")
	if code != 200 || out["category"] != "blocco-traffico" || out["expires_at"] == nil || !strings.HasPrefix(out["message"].(string), "Blocco del traffico venerdì 28\n") {
		t.Fatalf("CAP alert as stored: %d %v", code, out)
	}
	// The same document twice is one alert.
	code, out = alertCall(t, "POST", gw.URL+"/api/v1/alerts", key, string(doc), "application/cap+xml")
	if code != 202 || out["id"] != first || out["duplicate"] != true {
		t.Fatalf("repeat: %d %v", code, out)
	}
	update := strings.Replace(string(doc), "<msgType>Alert</msgType>", "<msgType>Update</msgType><references>mobilita@comune.fi.it,FI-2026-1127-001,2026-11-27T07:00:00+01:00</references>", 1)
	update = strings.Replace(strings.Replace(update, "FI-2026-1127-001</identifier>", "FI-2026-1127-002</identifier>", 1), "venerdì 28", "sabato 29", 1)
	code, out = alertCall(t, "POST", gw.URL+"/api/v1/alerts", key, update, "application/cap+xml")
	if code != 202 || out["action"] != "replaced" {
		t.Fatalf("CAP Update: %d %v", code, out)
	}
	second := out["id"].(string)
	waitAlert(t, gw, key, second, 20*time.Second, func(st string, c alertCounts) bool { return c.Delivered == 5 })
	if _, out := alertCall(t, "GET", gw.URL+"/api/v1/alerts/"+first, key, nil, ""); out["status"] != "superseded" {
		t.Fatalf("the updated alert is %v", out["status"])
	}
	if reply := alertSMS(t, gw, "", "+393479999999", alFirenze, "BLOCCO"); !strings.Contains(reply, "sabato 29") || strings.Contains(reply, "venerdì 28") {
		t.Fatalf("BLOCCO after the update: %q", reply)
	}
	cancel := `<?xml version="1.0"?><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>FI-2026-1127-003</identifier>
<sender>mobilita@comune.fi.it</sender><sent>2026-11-27T09:00:00+01:00</sent><status>Actual</status><msgType>Cancel</msgType>
<scope>Public</scope><references>mobilita@comune.fi.it,FI-2026-1127-002,2026-11-27T08:00:00+01:00</references></alert>`
	code, out = alertCall(t, "POST", gw.URL+"/api/v1/alerts", key, cancel, "application/cap+xml")
	if code != 202 || out["action"] != "cancelled" || out["id"] != second || out["status"] != "cancelled" {
		t.Fatalf("CAP Cancel: %d %v", code, out)
	}
	if reply := alertSMS(t, gw, "", "+393479999999", alFirenze, "BLOCCO"); !strings.Contains(reply, "nessun blocco") {
		t.Fatalf("BLOCCO after the cancel: %q", reply)
	}
	// Another comune cannot update or cancel it.
	ek := alertKey(t, gw, "empoli")
	if code, out := alertCall(t, "POST", gw.URL+"/api/v1/alerts", ek, cancel, "application/cap+xml"); code != 404 {
		t.Fatalf("empoli cancelled firenze's alert: %d %v", code, out)
	}
	if gw.Twilio.Duplicates() != 0 {
		t.Fatalf("%d duplicates", gw.Twilio.Duplicates())
	}
}

// Twilio goes down in the middle of a fan-out: everything is sent after it, nothing twice;
// refusals for good are recorded and 21610 turns the number off.
func TestAlertsOutageMidFanout(t *testing.T) {
	eachDialectWaitingOnTheClock(t, func(t *testing.T, d store.Dialect) {
		gw := alertsGateway(t, d, 1000, 200)
		key := alertKey(t, gw, "firenze")
		nums := alertSubscribers(t, gw, "firenze", "+39347", 3000)
		gw.Twilio.FailNumber(nums[10], 21211)
		gw.Twilio.Unsubscribe(nums[11])
		gw.Twilio.FailNumber(nums[12], 30003) // accepted, then undelivered
		code, out := alertCall(t, "POST", gw.URL+"/api/v1/alerts", key, map[string]any{"category": "altro", "message": "Prova di interruzione"}, "")
		if code != 202 {
			t.Fatalf("%d %v", code, out)
		}
		id := out["id"].(string)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := gw.Twilio.WaitFor(ctx, 800); err != nil {
			t.Fatal(err)
		}
		gw.Twilio.SetOutage(http.StatusServiceUnavailable, 0)
		// The outage's length, not a condition: the senders keep meeting 503s and retrying
		// for a while before Twilio comes back.
		time.Sleep(2 * time.Second)
		during := gw.Twilio.Count()
		gw.Twilio.EndOutage()
		if err := gw.Twilio.WaitFor(ctx, 2998); err != nil {
			t.Fatal(err)
		}
		c := waitAlert(t, gw, key, id, 60*time.Second, func(st string, c alertCounts) bool {
			return st == "sent" && c.Delivered == 2997 && c.Failed == 3
		})
		if gw.Twilio.Count() != 2998 || gw.Twilio.Duplicates() != 0 {
			t.Fatalf("emulator holds %d messages, %d duplicates; counts %+v", gw.Twilio.Count(), gw.Twilio.Duplicates(), c)
		}
		if rej := gw.Twilio.Rejections()[20503]; rej == 0 || during >= 3000 {
			t.Fatalf("the outage was not exercised: %d refusals, %d sent before it ended", rej, during)
		}
		for _, n := range nums {
			if k := gw.Twilio.CountTo(n); k > 1 {
				t.Fatalf("%s got %d", n, k)
			}
		}
		code, out = alertCall(t, "GET", gw.URL+"/api/v1/subscribers/"+nums[11], key, nil, "")
		if code != 200 || out["status"] != "stopped" {
			t.Fatalf("21610 subscriber: %d %v", code, out)
		}
	})
}

// Pacing: at twilio.max_messages_per_second = 100 the emulator sees 100 a second, ±5 %, over a
// 10 s window (the minute-long measurement is tools/alertbench's).
func TestAlertsPacing(t *testing.T) {
	gw := alertsGateway(t, store.SQLite, 100, 100)
	key := alertKey(t, gw, "firenze")
	alertSubscribers(t, gw, "firenze", "+39347", 1300)
	code, out := alertCall(t, "POST", gw.URL+"/api/v1/alerts", key, map[string]any{"category": "altro", "message": "Prova di ritmo"}, "")
	if code != 202 {
		t.Fatalf("%d %v", code, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	if err := gw.Twilio.WaitFor(ctx, 100); err != nil {
		t.Fatal(err)
	}
	from := time.Now()
	// 1,000 more messages take 10 s at the configured rate: once they have arrived the window
	// [from, from+10s] is complete (a slower gateway only makes the wait longer, and fails below).
	if err := gw.Twilio.WaitFor(ctx, 1100); err != nil {
		t.Fatal(err)
	}
	for time.Now().Before(from.Add(10 * time.Second)) {
		if err := gw.Twilio.WaitFor(ctx, gw.Twilio.Count()+1); err != nil {
			t.Fatal(err)
		}
	}
	rate := gw.Twilio.RateBetween(from, from.Add(10*time.Second))
	t.Logf("rate over 10 s: %.1f/s; peak over any 1 s: %.0f/s", rate, gw.Twilio.PeakRate(time.Second))
	if rate < 95 || rate > 105 {
		t.Fatalf("rate %.1f/s, want 100 ±5%%", rate)
	}
	if _, err := alertstore.New(gw.G.Store).EndAlert(context.Background(), "", out["id"].(string), alertstore.AlertCancelled); err != nil {
		t.Fatal(err)
	}
}

func TestAlertsSubscribersAPI(t *testing.T) {
	gw := alertsGateway(t, store.SQLite, 500, 100)
	key := alertKey(t, gw, "firenze")
	code, out := alertCall(t, "POST", gw.URL+"/api/v1/subscribers", key, map[string]any{"phone": "+393471234567", "topics": []string{"traffico"}, "lang": "en"}, "")
	if code != 202 || out["status"] != "pending" || out["lang"] != "en" {
		t.Fatalf("%d %v", code, out)
	}
	// The confirmation request goes out in English.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := gw.Twilio.WaitFor(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if m := gw.Twilio.Messages()[0]; !strings.Contains(m.Body, "reply YES") {
		t.Fatalf("%q", m.Body)
	}
	for _, p := range []string{"+393471234567", "%2B393471234567", "3471234567"} {
		if code, out := alertCall(t, "GET", gw.URL+"/api/v1/subscribers/"+p, key, nil, ""); code != 200 || out["phone"] != "+393471234567" {
			t.Fatalf("GET %s: %d %v", p, code, out)
		}
	}
	if code, _ := alertCall(t, "DELETE", gw.URL+"/api/v1/subscribers/+393471234567", key, nil, ""); code != 204 {
		t.Fatalf("DELETE: %d", code)
	}
	if code, _ := alertCall(t, "GET", gw.URL+"/api/v1/subscribers/+393471234567", key, nil, ""); code != 404 {
		t.Fatalf("GET after DELETE: %d", code)
	}
	if code, _ := alertCall(t, "DELETE", gw.URL+"/api/v1/subscribers/+393471234567", key, nil, ""); code != 404 {
		t.Fatalf("DELETE twice: %d", code)
	}
	// A removed subscriber can be asked again: pending, but no second request goes out the
	// same day (one a day per number, issue 8).
	if code, out := alertCall(t, "POST", gw.URL+"/api/v1/subscribers", key, map[string]any{"phone": "3471234567"}, ""); code != 202 || out["status"] != "pending" {
		t.Fatalf("again: %d %v", code, out)
	}
	if jobs := confirmJobsSettled(t, gw); jobs != 1 || gw.Twilio.Count() != 1 {
		t.Fatalf("%d confirmation jobs, %d SMS: want 1", jobs, gw.Twilio.Count())
	}
}

func TestAlertsRateLimitPerKey(t *testing.T) {
	y := strings.Replace(alertsYAML(500, 100), "requests_per_minute: 600", "requests_per_minute: 5", 1)
	gw := alertsGatewayYAML(t, y)
	a, b := alertKey(t, gw, "firenze"), alertKey(t, gw, "firenze")
	for i := 0; i < 5; i++ {
		if code, _ := alertCall(t, "GET", gw.URL+"/api/v1/alerts", a, nil, ""); code != 200 {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	code, out := alertCall(t, "GET", gw.URL+"/api/v1/alerts", a, nil, "")
	if code != 429 || errCode(out) != "rate_limited" {
		t.Fatalf("6th request: %d %v", code, out)
	}
	if code, _ := alertCall(t, "GET", gw.URL+"/api/v1/alerts", b, nil, ""); code != 200 {
		t.Fatalf("another key was limited: %d", code)
	}
}

// harnessVoiceMenu calls in on a number and picks the traffic-block choice of the menu.
func harnessVoiceMenu(t *testing.T, gw *harness.Gateway, to string) (int, string) {
	t.Helper()
	sid := fmt.Sprintf("CA%032d", time.Now().UnixNano())
	if resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/voice", harness.CallForm(sid, "+393471000009", to, "ringing")); resp.StatusCode != 200 {
		t.Fatalf("voice: %d %s", resp.StatusCode, body)
	}
	form := harness.CallForm(sid, "+393471000009", to, "in-progress")
	form.Set("Digits", "1")
	resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/voice/menu", form)
	return resp.StatusCode, body
}

// A graceful restart in the middle of a fan-out: the batches are handed back and taken up
// again by the next process; nobody is skipped, nobody gets it twice.
func TestAlertsGracefulRestartMidFanout(t *testing.T) {
	dir := t.TempDir()
	gw := harness.Start(t, harness.Options{DataDir: dir, Replace: alertsYAML(100, 50)})
	key := alertKey(t, gw, "firenze")
	nums := alertSubscribers(t, gw, "firenze", "+39347", 400)
	code, out := alertCall(t, "POST", gw.URL+"/api/v1/alerts", key, map[string]any{"category": "altro", "message": "Riavvio"}, "")
	if code != 202 {
		t.Fatalf("%d %v", code, out)
	}
	id := out["id"].(string)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := gw.Twilio.WaitFor(ctx, 100); err != nil {
		t.Fatal(err)
	}
	first := gw.Twilio
	gw.Stop(t)
	before := first.Count()
	if before >= 400 {
		t.Fatal("finished before the stop")
	}
	gw2 := harness.Start(t, harness.Options{DataDir: dir, Replace: alertsYAML(100, 50)})
	waitAlert(t, gw2, key, id, 30*time.Second, func(st string, c alertCounts) bool { return st == "sent" && c.Queued+c.Sending == 0 })
	got := map[string]int{}
	for _, m := range append(first.Messages(), gw2.Twilio.Messages()...) {
		got[m.To]++
	}
	for _, n := range nums {
		if got[n] != 1 {
			t.Fatalf("%s got %d (first process sent %d, the second %d)", n, got[n], before, gw2.Twilio.Count())
		}
	}
	if len(got) != 400 {
		t.Fatalf("%d numbers", len(got))
	}
}
