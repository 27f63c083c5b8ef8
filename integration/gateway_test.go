package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

type contactList struct {
	Items      []channels.Contact `json:"items"`
	NextCursor string             `json:"next_cursor"`
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func eachDialect(t *testing.T, f func(t *testing.T, d store.Dialect)) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) { f(t, d) })
	}
}

func TestSMSWebhook(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		gw := harness.Start(t, harness.Options{Dialect: d})
		token := gw.User(t, "sup", store.RoleSupervisor)

		resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", harness.SMSForm("SM00000000000000000000000000000001", "347 123 4567", "+39055055", "Domani c'è il blocco del traffico?"))
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") || !strings.Contains(body, "<Response") {
			t.Fatalf("sms webhook: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		// The same MessageSid again is the same contact.
		resp, _ = harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", harness.SMSForm("SM00000000000000000000000000000001", "347 123 4567", "+39055055", "Domani c'è il blocco del traffico?"))
		if resp.StatusCode != 200 {
			t.Fatalf("duplicate: %d", resp.StatusCode)
		}
		// To a comune's own number: the number decides the comune.
		harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", harness.SMSForm("SM00000000000000000000000000000002", "+393479999999", "+390552768000", "Ho ricevuto una multa"))

		var list contactList
		if code := harness.API(t, "GET", gw.URL+"/api/v1/contacts?channel=sms", token, nil, &list); code != 200 {
			t.Fatalf("list: %d", code)
		}
		if len(list.Items) != 2 {
			t.Fatalf("want 2 contacts (duplicate folded), got %d", len(list.Items))
		}
		fi, shared := list.Items[0], list.Items[1]
		if shared.From != "+393471234567" || shared.To != "+39055055" || shared.Comune != nil || shared.ExternalID != "SM00000000000000000000000000000001" ||
			shared.Channel != channels.SMS || shared.Status != channels.StatusOpen || shared.Citizen == nil || *shared.Citizen.Phone != "+393471234567" {
			t.Fatalf("shared-number contact: %+v", shared)
		}
		if fi.Comune == nil || *fi.Comune != "firenze" {
			t.Fatalf("comune from the number texted: %+v", fi.Comune)
		}
		var one channels.Contact
		if code := harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+shared.ID, token, nil, &one); code != 200 || len(one.Messages) != 1 {
			t.Fatalf("get: %d, %d messages", code, len(one.Messages))
		}
		// Raw JSON has null, not missing, for unknown values.
		var raw map[string]json.RawMessage
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+shared.ID, token, nil, &raw)
		for _, k := range []string{"comune", "assignee", "outcome", "call"} {
			if string(raw[k]) != "null" {
				t.Errorf("%s = %s, want null", k, raw[k])
			}
		}
	})
}

func TestForgedAndBadWebhooksStoreNothing(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		gw := harness.Start(t, harness.Options{Dialect: d})
		form := harness.SMSForm("SM00000000000000000000000000000003", "+393471234567", "+39055055", "ciao")
		cases := []struct {
			name string
			sig  string
			want int
		}{
			{"missing signature", "", 403},
			{"wrong signature", harness.Signature("not-the-token", harness.PublicURL+"/webhooks/twilio/sms", form), 403},
			{"signed for another URL", harness.Signature(harness.AuthToken, "https://evil.example/webhooks/twilio/sms", form), 403},
		}
		for _, c := range cases {
			resp, body := harness.PostTwilioSigned(t, gw.URL, "/webhooks/twilio/sms", form, c.sig)
			var e apiError
			_ = json.Unmarshal([]byte(body), &e) // a body that is not JSON leaves e empty: reported below
			if resp.StatusCode != c.want || e.Error.Code == "" {
				t.Errorf("%s: %d %s", c.name, resp.StatusCode, body)
			}
		}
		// A tampered field after signing.
		sig := harness.Signature(harness.AuthToken, harness.PublicURL+"/webhooks/twilio/sms", form)
		tampered := harness.SMSForm("SM00000000000000000000000000000003", "+393471234567", "+39055055", "ciao, modificato")
		if resp, _ := harness.PostTwilioSigned(t, gw.URL, "/webhooks/twilio/sms", tampered, sig); resp.StatusCode != 403 {
			t.Errorf("tampered body: %d", resp.StatusCode)
		}
		// Over the body limit: 413.
		big := harness.SMSForm("SM00000000000000000000000000000004", "+393471234567", "+39055055", strings.Repeat("a", 2<<20))
		if resp, _ := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", big); resp.StatusCode != 413 {
			t.Errorf("huge body: %d", resp.StatusCode)
		}
		// Malformed form: 400.
		req, _ := http.NewRequest("POST", gw.URL+"/webhooks/twilio/sms", strings.NewReader("MessageSid=%zz&From=1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", "x")
		if resp, _ := harness.Do(t, req); resp.StatusCode != 400 {
			t.Errorf("malformed form: %d", resp.StatusCode)
		}
		// Signed but without MessageSid: 400.
		noSid := url.Values{"From": {"+393471234567"}, "Body": {"x"}}
		if resp, _ := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", noSid); resp.StatusCode != 400 {
			t.Errorf("missing MessageSid: %d", resp.StatusCode)
		}
		if n, _ := gw.G.Store.CountMessages(t.Context(), ""); n != 0 {
			t.Fatalf("bad webhooks stored %d messages", n)
		}
	})
}

func TestVoiceCallWithStatusCallback(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		gw := harness.Start(t, harness.Options{Dialect: d})
		token := gw.User(t, "sup", store.RoleSupervisor)
		resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/voice", harness.CallForm("CA00000000000000000000000000000005", "+393471234567", "+390552768000", "ringing"))
		if resp.StatusCode != 200 || !strings.Contains(body, `<Say language="it-IT">`) || !strings.Contains(body, "<Gather") {
			t.Fatalf("voice: %d %s", resp.StatusCode, body)
		}
		menu := harness.CallForm("CA00000000000000000000000000000005", "+393471234567", "+390552768000", "in-progress")
		menu.Set("Digits", "2")
		resp, body = harness.PostTwilio(t, gw.URL, "/webhooks/twilio/voice/menu", menu)
		if resp.StatusCode != 200 || !strings.Contains(body, "<Enqueue") {
			t.Fatalf("menu: %d %s", resp.StatusCode, body)
		}
		status := harness.CallForm("CA00000000000000000000000000000005", "+393471234567", "+390552768000", "completed")
		status.Set("CallDuration", "117")
		if resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/voice/status", status); resp.StatusCode != 200 {
			t.Fatalf("status: %d %s", resp.StatusCode, body)
		}
		var list contactList
		harness.API(t, "GET", gw.URL+"/api/v1/contacts?channel=phone", token, nil, &list)
		if len(list.Items) != 1 {
			t.Fatalf("want 1 call, got %d", len(list.Items))
		}
		c := list.Items[0]
		if c.Call == nil || c.Call.Status != "completed" || c.Call.DurationSeconds != 117 || c.ExternalID != "CA00000000000000000000000000000005" ||
			c.Category == nil || *c.Category != "contravvenzioni" || c.Comune == nil || *c.Comune != "firenze" {
			t.Fatalf("call contact: %+v call=%+v", c, c.Call)
		}
	})
}

func TestCTICall(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		gw := harness.Start(t, harness.Options{Dialect: d})
		token := gw.User(t, "sup", store.RoleSupervisor)
		post := func(auth, contentType, body string) (int, string) {
			req, _ := http.NewRequest("POST", gw.URL+"/webhooks/cti", strings.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			if auth != "" {
				req.Header.Set("Authorization", "Bearer "+auth)
			}
			resp, text := harness.Do(t, req)
			return resp.StatusCode, text
		}
		if code, _ := post("wrong", "application/json", `{"event":"newCall","from":"0557654321","callId":"pbx-1"}`); code != 401 {
			t.Fatalf("wrong token: %d", code)
		}
		// A first call from an unknown number: no citizen record yet.
		code, text := post(harness.CTIToken, "application/json", `{"event":"newCall","from":"0557654321","to":"+390552768000","direction":"in","callId":"pbx-1"}`)
		var pop struct {
			ContactID string `json:"contact_id"`
			Known     bool   `json:"known"`
			Citizen   *struct {
				ID           string             `json:"id"`
				Phone        *string            `json:"phone"`
				OpenContacts []channels.Contact `json:"open_contacts"`
			} `json:"citizen"`
		}
		if err := json.Unmarshal([]byte(text), &pop); err != nil || code != 200 || pop.Known || pop.Citizen != nil || pop.ContactID == "" {
			t.Fatalf("first newCall: %d %s %v", code, text, err)
		}
		if code, text := post(harness.CTIToken, "application/x-www-form-urlencoded", "event=answer&callId=pbx-1&user=anna"); code != 200 {
			t.Fatalf("answer: %d %s", code, text)
		}
		if code, text := post(harness.CTIToken, "application/x-www-form-urlencoded", "event=hangup&callId=pbx-1&cause=normal"); code != 200 {
			t.Fatalf("hangup: %d %s", code, text)
		}
		// The same caller again: the screen pop knows them.
		code, text = post(harness.CTIToken, "application/x-www-form-urlencoded", "event=newCall&from=%2B390557654321&to=%2B39055055&callId=pbx-2")
		pop.Citizen = nil
		if err := json.Unmarshal([]byte(text), &pop); err != nil || code != 200 || !pop.Known || pop.Citizen == nil || *pop.Citizen.Phone != "+390557654321" || len(pop.Citizen.OpenContacts) != 1 {
			t.Fatalf("second newCall: %d %s %v", code, text, err)
		}
		// Events about calls never seen: 404, never 500.
		if code, _ := post(harness.CTIToken, "application/json", `{"event":"hangup","callId":"nope"}`); code != 404 {
			t.Fatalf("unknown call: %d", code)
		}
		if code, _ := post(harness.CTIToken, "application/json", `{"event":"dance","callId":"x"}`); code != 400 {
			t.Fatalf("unknown event: %d", code)
		}
		if code, _ := post(harness.CTIToken, "application/json", `{"event":`); code != 400 {
			t.Fatalf("malformed json: %d", code)
		}
		var c channels.Contact
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+pop.ContactID, token, nil, &c)
		var first contactList
		harness.API(t, "GET", gw.URL+"/api/v1/contacts?channel=phone", token, nil, &first)
		var call1 *channels.Contact
		for i := range first.Items {
			if first.Items[i].ExternalID == "pbx-1" {
				call1 = &first.Items[i]
			}
		}
		if call1 == nil || call1.Call == nil || call1.Call.Status != "completed" || call1.Call.Operator != "anna" || call1.Call.AnsweredAt == nil {
			t.Fatalf("cti call: %+v", call1)
		}
		if call1.From != "+390557654321" || call1.Comune == nil || *call1.Comune != "firenze" {
			t.Fatalf("cti numbers: from %s comune %v", call1.From, call1.Comune)
		}
	})
}

func TestOperatorAPIAuthAndScope(t *testing.T) {
	gw := harness.Start(t, harness.Options{})
	empoli := gw.User(t, "op-empoli", store.RoleOperator, "empoli")
	all := gw.User(t, "sup", store.RoleSupervisor)
	harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", harness.SMSForm("SM00000000000000000000000000000006", "+393471234567", "+390552768000", "multa"))
	harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", harness.SMSForm("SM00000000000000000000000000000007", "+393471234568", "+39057175761", "ztl"))
	var list contactList
	if code := harness.API(t, "GET", gw.URL+"/api/v1/contacts", "", nil, nil); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	if code := harness.API(t, "GET", gw.URL+"/api/v1/contacts", "spt_forged", nil, nil); code != 401 {
		t.Fatalf("forged token: %d", code)
	}
	harness.API(t, "GET", gw.URL+"/api/v1/contacts", empoli, nil, &list)
	if len(list.Items) != 1 || *list.Items[0].Comune != "empoli" {
		t.Fatalf("scoped operator sees %d contacts", len(list.Items))
	}
	var allList contactList
	harness.API(t, "GET", gw.URL+"/api/v1/contacts", all, nil, &allList)
	var fiID string
	for _, c := range allList.Items {
		if c.Comune != nil && *c.Comune == "firenze" {
			fiID = c.ID
		}
	}
	if code := harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+fiID, empoli, nil, nil); code != 404 {
		t.Fatalf("out-of-scope contact: %d, want 404", code)
	}
	for _, q := range []string{"limit=0", "limit=abc", "cursor=zzz", "channel=pigeon", "status=lost"} {
		var e apiError
		if code := harness.API(t, "GET", gw.URL+"/api/v1/contacts?"+q, all, nil, &e); code != 400 || e.Error.Code == "" {
			t.Errorf("%s: %d %+v", q, code, e)
		}
	}
	// Pagination walks every contact once.
	seen := map[string]bool{}
	cursor := ""
	for i := 0; i < 5; i++ {
		var page contactList
		harness.API(t, "GET", fmt.Sprintf("%s/api/v1/contacts?limit=1&cursor=%s", gw.URL, cursor), all, nil, &page)
		for _, c := range page.Items {
			seen[c.ID] = true
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(seen) != 2 {
		t.Fatalf("paged through %d contacts, want 2", len(seen))
	}
}

func TestMMSMediaAndMetrics(t *testing.T) {
	gw := harness.Start(t, harness.Options{})
	token := gw.User(t, "sup", store.RoleSupervisor)
	form := harness.SMSForm("MM00000000000000000000000000000008", "+393471234567", "+390552768000", "ecco la foto della multa")
	form.Set("NumMedia", "2")
	form.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM0001/Media/ME1")
	form.Set("MediaContentType0", "image/jpeg")
	form.Set("MediaUrl1", "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM0001/Media/ME2")
	form.Set("MediaContentType1", "application/pdf")
	if resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", form); resp.StatusCode != 200 {
		t.Fatalf("mms: %d %s", resp.StatusCode, body)
	}
	var list contactList
	harness.API(t, "GET", gw.URL+"/api/v1/contacts", token, nil, &list)
	if len(list.Items) != 1 || len(list.Items[0].Attachments) != 2 {
		t.Fatalf("want 1 contact with 2 media, got %+v", list.Items)
	}
	a := list.Items[0].Attachments[0]
	if a.ContentType != "image/jpeg" || !strings.HasSuffix(a.URL, "/Media/ME1") {
		t.Fatalf("media: %+v", a)
	}
	// The media stay with Twilio: the gateway fetches them there (no network here: 502) and
	// never sends the browser elsewhere (TestAttachmentURLsAreNeverRedirects serves them).
	req, _ := http.NewRequest("GET", gw.URL+"/api/v1/contacts/"+list.Items[0].ID+"/attachments/"+a.ID, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("Location") != "" {
		t.Fatalf("media download: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, metrics := harness.Do(t, mustRequest(t, "GET", gw.URL+"/metrics"))
	for _, want := range []string{`sportello_contacts_total{channel="sms"} 1`, `sportello_webhook_duration_seconds_count{code="200",route="/webhooks/twilio/sms"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func mustRequest(t *testing.T, method, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestClosedHoursVoicemail: outside business hours a call hears the opening times and can
// leave a message, whose recording joins the contact.
func TestClosedHoursVoicemail(t *testing.T) {
	today := time.Now().In(mustLocation(t, "Europe/Rome")).Format("2006-01-02")
	yaml := strings.Replace(harness.BaseYAML, `  close: "23:59"`, `  close: "23:59"`+"\n  holidays: [\""+today+"\"]", 1)
	gw := harness.Start(t, harness.Options{Replace: yaml})
	token := gw.User(t, "sup", store.RoleSupervisor)
	resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/voice", harness.CallForm("CA00000000000000000000000000000009", "+393471234567", "+390552768000", "ringing"))
	if resp.StatusCode != 200 || !strings.Contains(body, "<Record") || !strings.Contains(body, `language="it-IT"`) || strings.Contains(body, "<Gather") {
		t.Fatalf("closed-hours answer: %d %s", resp.StatusCode, body)
	}
	rec := harness.CallForm("CA00000000000000000000000000000009", "+393471234567", "+390552768000", "in-progress")
	rec.Set("RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1")
	rec.Set("RecordingDuration", "14")
	if resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/voice/recording", rec); resp.StatusCode != 200 || !strings.Contains(body, "<Hangup") {
		t.Fatalf("recording: %d %s", resp.StatusCode, body)
	}
	var list contactList
	harness.API(t, "GET", gw.URL+"/api/v1/contacts?channel=phone", token, nil, &list)
	if len(list.Items) != 1 {
		t.Fatalf("want one call, got %d", len(list.Items))
	}
	c := list.Items[0]
	if c.Call == nil || c.Call.RecordingURL == nil || *c.Call.RecordingURL != "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1" || len(c.Attachments) != 1 {
		t.Fatalf("voicemail not on the contact: call %+v, attachments %+v", c.Call, c.Attachments)
	}
}

func mustLocation(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
