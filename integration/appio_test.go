package integration

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/appioemu"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/integration/twilioemu"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// Fiscal codes of the App IO test: two citizens whose profiles accept Firenze's service, one
// whose profile refuses it, one without a profile.
const (
	cfAllowed   = "RSSMRA85T10A562S"
	cfAllowed2  = "RSSMRAURTMLARSNL" // omocodic: the same person's code with letters for digits
	cfRefuses   = "BNCLRA80A41F205G"
	cfNoProfile = "VRDGPP80A01H501U"
)

// appIORun is the real binary with the Twilio and App IO emulators as its providers.
type appIORun struct {
	io     *appioemu.Emulator
	tw     *twilioemu.Emulator
	p      *harness.Process
	cfg    string
	apiKey string
}

func startAppIORun(t *testing.T, d store.Dialect) *appIORun {
	t.Helper()
	r := &appIORun{}
	r.io = appioemu.New(appioemu.Options{Services: map[string]string{"k-firenze": "firenze"}, RetryAfter: 1})
	r.io.AddProfile(cfAllowed)
	r.io.AddProfile(cfAllowed2)
	r.io.AddProfile(cfRefuses, "firenze")
	ioSrv := httptest.NewServer(r.io)
	t.Cleanup(ioSrv.Close)
	r.tw = twilioemu.New(twilioemu.Options{AccountSID: harness.AccountSID, AuthToken: harness.AuthToken, OwnedNumbers: []string{harness.TwilioFrom}})
	twURL, err := r.tw.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.tw.Close() })
	dbURL := ""
	if d == store.Postgres {
		dbURL = storetest.NewDatabaseURL(t, store.Postgres)
	}
	dir := t.TempDir()
	addr := harness.FreePort(t)
	r.cfg = filepath.Join(dir, "sportello.yaml")
	// The service key comes from the environment (SPORTELLO_APP_IO_KEY_FIRENZE), as in production.
	yaml := harness.EmulatedYAML(filepath.Join(dir, "data"), dbURL, addr, twURL, 50) + fmt.Sprintf(`
app_io:
  base_url: %s
  status_every: 200ms
  max_retry_after: 2s
`, ioSrv.URL)
	if err := os.WriteFile(r.cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	// Two subscribers by phone, confirmed through an import (the SMS confirmation is tested
	// elsewhere); the API then gives them their fiscal codes.
	csvPath := filepath.Join(dir, "iscritti.csv")
	if err := os.WriteFile(csvPath, []byte("phone\n+393470000001\n+393470000002\n+393470000003\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runCLI(t, "subscribers", "import", "--config", r.cfg, "--comune", "firenze", csvPath)
	r.apiKey = runCLI(t, "apikey", "create", "--config", r.cfg, "--comune", "firenze", "--name", "app io test")
	r.p = harness.StartProcess(t, r.cfg, addr, "SPORTELLO_APP_IO_KEY_FIRENZE=k-firenze")
	return r
}

// TestAppIOAlertFanout: an alert naming App IO and SMS reaches each subscriber once, on the
// right channel: App IO for fiscal codes whose profile accepts the comune's service (no SMS
// then), SMS for the one whose profile refuses it and for the one with only a phone, nothing
// for a fiscal code without a profile and without a phone. App IO throttles the first calls
// (429, Retry-After) past what one call waits out: nobody is lost or doubled. App IO's
// PROCESSED becomes "delivered".
func TestAppIOAlertFanout(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		r := startAppIORun(t, d)
		base := r.p.URL + "/api/v1"
		for _, sub := range []map[string]any{
			{"phone": "+393470000001", "fiscal_code": strings.ToLower(cfAllowed)},
			{"phone": "+393470000002", "fiscal_code": cfRefuses},
			{"fiscal_code": cfAllowed2},
			{"fiscal_code": cfNoProfile},
		} {
			code, out := alertCall(t, "POST", base+"/subscribers", r.apiKey, sub, "")
			if code != 200 || out["status"] != "confirmed" {
				t.Fatalf("POST subscriber %v: %d %v", sub, code, out)
			}
		}
		code, out := alertCall(t, "GET", base+"/subscribers/"+cfAllowed, r.apiKey, nil, "")
		if code != 200 || out["phone"] != "+393470000001" || out["fiscal_code"] != cfAllowed {
			t.Fatalf("GET subscriber by fiscal code: %d %v", code, out)
		}
		code, out = alertCall(t, "GET", base+"/subscribers/"+cfAllowed2, r.apiKey, nil, "")
		if code != 200 || out["phone"] != "" || out["fiscal_code"] != cfAllowed2 {
			t.Fatalf("GET subscriber by fiscal code alone: %d %v", code, out)
		}
		for _, bad := range []map[string]any{{"fiscal_code": "RSSMRA85T10A562T"}, {"phone": "+393470000009", "fiscal_code": "XXX"}, {}} {
			if code, out := alertCall(t, "POST", base+"/subscribers", r.apiKey, bad, ""); code != 400 {
				t.Fatalf("POST subscriber %v: %d %v, want 400", bad, code, out)
			}
		}
		if code, out := alertCall(t, "POST", base+"/alerts", r.apiKey, map[string]any{"category": "blocco-traffico", "message": "x", "channels": []string{"fax"}}, ""); code != 400 {
			t.Fatalf("an unknown channel: %d %v", code, out)
		}

		// The first 7 calls to App IO answer 429: the first recipient's call waits out 4 of
		// them (Retry-After 1s) and gives up; the recipient goes back to the queue and is
		// sent on a later round.
		r.io.Throttle(7)
		code, out = alertCall(t, "POST", base+"/alerts", r.apiKey, map[string]any{"category": "blocco-traffico",
			"message": "Domani blocco del traffico in centro dalle 8 alle 20.", "channels": []string{"app_io", "sms"}}, "")
		if code != 202 || out["recipients"].(float64) != 5 {
			t.Fatalf("POST alert: %d %v", code, out)
		}
		id := out["id"].(string)
		deadline := time.Now().Add(90 * time.Second)
		var st map[string]any
		for {
			_, st = alertCall(t, "GET", base+"/alerts/"+id, r.apiKey, nil, "")
			byCh, _ := st["counts_by_channel"].(map[string]any)
			io, _ := byCh["app_io"].(map[string]any)
			if st["status"] == "sent" && io != nil && io["delivered"] == float64(2) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the alert did not finish with 2 App IO deliveries: %v\n%s", st, r.p.Output())
			}
			time.Sleep(200 * time.Millisecond)
		}
		if n := r.io.Throttled(); n != 7 {
			t.Errorf("App IO answered %d calls 429, want 7", n)
		}
		got := map[string]int{}
		for _, m := range r.io.Messages() {
			got[m.FiscalCode]++
			if m.Service != "firenze" || !strings.Contains(m.Markdown, "Domani blocco del traffico in centro") ||
				len([]rune(m.Subject)) < 10 || len([]rune(m.Markdown)) < 80 {
				t.Errorf("App IO message %+v", m)
			}
		}
		if len(got) != 2 || got[cfAllowed] != 1 || got[cfAllowed2] != 1 {
			t.Errorf("App IO messages by fiscal code: %v; want one each to %s and %s", got, cfAllowed, cfAllowed2)
		}
		for phone, want := range map[string]int{"+393470000001": 0, "+393470000002": 1, "+393470000003": 1} {
			if n := r.tw.CountTo(phone); n != want {
				t.Errorf("%d SMS to %s, want %d", n, phone, want)
			}
		}
		counts := st["counts"].(map[string]any)
		if counts["failed"] != float64(1) || counts["queued"] != float64(0) || counts["sending"] != float64(0) {
			t.Errorf("counts %v: want the fiscal code without a profile (and no phone) failed, nothing left", counts)
		}
		if refused := r.io.Refused(); len(refused) != 0 {
			t.Errorf("App IO refused requests: %v", refused)
		}
	})
}

// TestAppIOOperatorReply: an operator gives a citizen who texted a fiscal code (the check
// character is verified) and answers them by App IO; the thread shows the message and its
// delivery (App IO's PROCESSED = delivered).
func TestAppIOOperatorReply(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	r := startAppIORun(t, store.SQLite)
	add := exec.Command(harness.Binary(t), "user", "add", "--config", r.cfg, "--username", "anna", "--role", "operator", "--comune", "firenze", "--name", "Anna")
	add.Stdin = strings.NewReader("una-password-lunga\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	token := runCLI(t, "token", "create", "--config", r.cfg, "--username", "anna")
	form := harness.SMSForm("SM00000000000000000000000000000001", "+393470000001", "+390552768000", "Quando riapre l'anagrafe?")
	path := "/webhooks/twilio/sms"
	if resp, body := harness.PostTwilioSigned(t, r.p.URL, path, form, harness.Signature(harness.AuthToken, r.p.URL+path, form)); resp.StatusCode != 200 {
		t.Fatalf("inbound SMS: %d %s", resp.StatusCode, body)
	}
	var list contactList
	if code := harness.API(t, "GET", r.p.URL+"/api/v1/contacts", token, nil, &list); code != 200 || len(list.Items) != 1 {
		t.Fatalf("contacts: %d %+v", code, list)
	}
	contactID, citizenID := list.Items[0].ID, list.Items[0].Citizen.ID
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	// Replying by App IO before the citizen has a fiscal code is refused, with the reason.
	if code := harness.API(t, "POST", r.p.URL+"/api/v1/contacts/"+contactID+"/reply", token, map[string]any{"body": "Lunedì.", "channel": "app_io"}, &e); code != 400 || e.Error.Code != "no_fiscal_code" {
		t.Fatalf("reply by App IO without a fiscal code: %d %+v", code, e)
	}
	if code := harness.API(t, "POST", r.p.URL+"/api/v1/citizens/"+citizenID+"/fiscal_code", token, map[string]any{"fiscal_code": "RSSMRA85T10A562T"}, &e); code != 400 || e.Error.Code != "invalid_fiscal_code" {
		t.Fatalf("a wrong check character: %d %+v", code, e)
	}
	var cz struct {
		FiscalCode *string `json:"fiscal_code"`
		Identities []struct{ Kind, Value string }
	}
	if code := harness.API(t, "POST", r.p.URL+"/api/v1/citizens/"+citizenID+"/fiscal_code", token, map[string]any{"fiscal_code": "rssmra 85t10 a562s"}, &cz); code != 200 ||
		cz.FiscalCode == nil || *cz.FiscalCode != cfAllowed {
		t.Fatalf("add fiscal code: %d %+v", code, cz)
	}
	var m struct {
		ID, Channel, To, Subject string
		Delivery                 *string
	}
	if code := harness.API(t, "POST", r.p.URL+"/api/v1/contacts/"+contactID+"/reply", token,
		map[string]any{"body": "L'anagrafe riapre lunedì alle 8:30.", "channel": "app_io"}, &m); code != 202 || m.Channel != "app_io" || m.To != cfAllowed {
		t.Fatalf("reply by App IO: %d %+v", code, m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		var c struct {
			Messages []struct {
				ID       string
				Delivery *string
			}
		}
		harness.API(t, "GET", r.p.URL+"/api/v1/contacts/"+contactID, token, nil, &c)
		var delivery string
		for _, x := range c.Messages {
			if x.ID == m.ID && x.Delivery != nil {
				delivery = *x.Delivery
			}
		}
		if delivery == "delivered" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the App IO reply's delivery is %q, not delivered\n%s", delivery, r.p.Output())
		}
		time.Sleep(200 * time.Millisecond)
	}
	msgs := r.io.Messages()
	if len(msgs) != 1 || msgs[0].FiscalCode != cfAllowed || !strings.Contains(msgs[0].Markdown, "L'anagrafe riapre lunedì alle 8:30") {
		t.Fatalf("App IO got %+v", msgs)
	}
	if n := r.tw.CountTo("+393470000001"); n != 0 {
		t.Fatalf("the App IO reply also went by SMS (%d)", n)
	}

	// A citizen whose App IO profile refuses the comune's service: the reply by App IO is
	// refused at once with the reason, and nothing goes to App IO; the SMS reply is queued.
	form = harness.SMSForm("SM00000000000000000000000000000002", "+393470000002", "+390552768000", "E l'ufficio tributi?")
	if resp, body := harness.PostTwilioSigned(t, r.p.URL, path, form, harness.Signature(harness.AuthToken, r.p.URL+path, form)); resp.StatusCode != 200 {
		t.Fatalf("inbound SMS: %d %s", resp.StatusCode, body)
	}
	if code := harness.API(t, "GET", r.p.URL+"/api/v1/contacts", token, nil, &list); code != 200 || len(list.Items) != 2 {
		t.Fatalf("contacts: %d %+v", code, list)
	}
	var second string
	for _, c := range list.Items {
		if c.ID != contactID {
			second = c.ID
			if code := harness.API(t, "POST", r.p.URL+"/api/v1/citizens/"+c.Citizen.ID+"/fiscal_code", token, map[string]any{"fiscal_code": cfRefuses}, nil); code != 200 {
				t.Fatalf("add fiscal code: %d", code)
			}
		}
	}
	if code := harness.API(t, "POST", r.p.URL+"/api/v1/contacts/"+second+"/reply", token, map[string]any{"body": "Martedì.", "channel": "app_io"}, &e); code != 400 || e.Error.Code != "app_io_refused" {
		t.Fatalf("reply by App IO to a refusing profile: %d %+v", code, e)
	}
	var sm struct{ Channel, To string }
	if code := harness.API(t, "POST", r.p.URL+"/api/v1/contacts/"+second+"/reply", token, map[string]any{"body": "Martedì."}, &sm); code != 202 || sm.Channel != "sms" || sm.To != "+393470000002" {
		t.Fatalf("the SMS reply: %d %+v", code, sm)
	}
	if m := len(r.io.Messages()); m != 1 {
		t.Fatalf("%d App IO messages in all, want 1", m)
	}
}
