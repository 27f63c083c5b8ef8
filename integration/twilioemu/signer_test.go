package twilioemu

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	twclient "github.com/twilio/twilio-go/client"
)

func TestSignKnownAnswer(t *testing.T) {
	// The vector of twilio-go's own request_validator_test.go.
	params := url.Values{
		"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"},
		"Caller": {"+14158675309"}, "From": {"+14158675309"}, "ReasonConferenceEnded": {"test"}, "Reason": {"Participant"},
	}
	got := Signer{AuthToken: "12345"}.Sign("https://mycompany.com/myapp.php?foo=1&bar=2", params)
	if got != "vOEb5UThFn24KEfnOFLQY2AE5FY=" {
		t.Fatalf("signature %q", got)
	}
}

func TestSignAgreesWithTwilioGo(t *testing.T) {
	s := Signer{AuthToken: testToken}
	cases := []struct {
		url    string
		params url.Values
	}{
		{"http://127.0.0.1:8080/webhooks/twilio/sms", url.Values{"Body": {"Ciao è già STOP"}, "From": {"+393471234567"}, "FromCity": {""}}},
		{"https://gw.example/webhooks/twilio/voice/menu?step=2&x=%20y", url.Values{"Digits": {"1"}, "CallSid": {"CA1"}}},
		{"https://gw.example/", nil},
		{"https://gw.example/a", url.Values{"a": {"=&+ "}, "A": {"ñ"}, "_": {""}}},
	}
	for _, c := range cases {
		sig := s.Sign(c.url, c.params)
		flat := map[string]string{}
		for k := range c.params {
			flat[k] = c.params.Get(k)
		}
		v := twclient.NewRequestValidator(testToken)
		if !v.Validate(c.url, flat, sig) {
			t.Errorf("twilio-go rejects our signature for %s %v", c.url, c.params)
		}
		if !v.ValidateBody(c.url, []byte(c.params.Encode()), sig) {
			t.Errorf("twilio-go ValidateBody rejects %s", c.url)
		}
		if !s.Valid(c.url, c.params, sig) || s.Valid(c.url+"x", c.params, sig) {
			t.Errorf("Valid disagrees with Sign for %s", c.url)
		}
		if (Signer{AuthToken: "other"}).Sign(c.url, c.params) == sig {
			t.Errorf("signature does not depend on the token")
		}
	}
}

func TestSignRepeatedParams(t *testing.T) {
	s := Signer{AuthToken: "tok"}
	a := s.Sign("https://x/y", url.Values{"k": {"b", "a", "a"}})
	b := s.Sign("https://x/y", url.Values{"k": {"a", "b"}})
	if a != b {
		t.Fatal("repeated values must be signed sorted and distinct, as Twilio's libraries do")
	}
}

func TestNewSid(t *testing.T) {
	re := regexp.MustCompile(`^CA[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for range 100 {
		sid := NewSid("CA")
		if !re.MatchString(sid) || seen[sid] {
			t.Fatalf("sid %q (seen: %v)", sid, seen[sid])
		}
		seen[sid] = true
	}
}

func FuzzSignMatchesTwilioGo(f *testing.F) {
	f.Add("https://gw.example/webhooks/twilio/sms?x=1", "Body", "ciao", "From", "+39347")
	f.Add("http://127.0.0.1:8080/p", "", "", "Z", "\x00")
	f.Fuzz(func(t *testing.T, u, k1, v1, k2, v2 string) {
		params := url.Values{}
		params.Set(k1, v1)
		if k2 != k1 {
			params.Set(k2, v2)
		}
		flat := map[string]string{k1: v1}
		if k2 != k1 {
			flat[k2] = v2
		}
		sig := Signer{AuthToken: "fuzztoken"}.Sign(u, params)
		v := twclient.NewRequestValidator("fuzztoken")
		if !v.Validate(u, flat, sig) {
			t.Fatalf("twilio-go rejects signature of %q %v", u, params)
		}
	})
}

// gateway is a stand-in webhook receiver that checks signatures against its public URL.
func gateway(t *testing.T, publicURL, token string) (*httptest.Server, chan url.Values) {
	got := make(chan url.Values, 10)
	v := twclient.NewRequestValidator(token)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !v.ValidateBody(publicURL+r.URL.RequestURI(), body, r.Header.Get("X-Twilio-Signature")) {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		form, _ := url.ParseQuery(string(body))
		form.Set("_path", r.URL.Path)
		got <- form
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, "<Response/>")
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestPostInboundSMS(t *testing.T) {
	public := "https://sportello.comune.example"
	srv, got := gateway(t, public, testToken)
	s := Signer{AccountSID: testSID, AuthToken: testToken}
	client := &http.Client{Timeout: 5 * time.Second}
	ctx := context.Background()
	resp, err := s.PostInboundSMS(ctx, client, public, srv.URL, url.Values{
		"From": {"+393471234567"}, "To": {"+39055055"}, "Body": {"Strada chiusa in via Roma"},
		"MediaUrl0": {"https://api.twilio.com/media/ME1"}, "MediaContentType0": {"image/jpeg"},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("gateway answered %d: signature not accepted", resp.StatusCode)
	}
	p := <-got
	if p.Get("_path") != SMSWebhookPath {
		t.Fatalf("path %q", p.Get("_path"))
	}
	if !regexp.MustCompile(`^MM[0-9a-f]{32}$`).MatchString(p.Get("MessageSid")) || p.Get("SmsSid") != p.Get("MessageSid") {
		t.Fatalf("MessageSid %q SmsSid %q", p.Get("MessageSid"), p.Get("SmsSid"))
	}
	want := map[string]string{"AccountSid": testSID, "NumMedia": "1", "NumSegments": "1", "SmsStatus": "received",
		"ApiVersion": "2010-04-01", "FromCountry": "IT", "ToCountry": "IT", "FromCity": "", "MediaContentType0": "image/jpeg"}
	for k, v := range want {
		if vs, ok := p[k]; !ok || vs[0] != v {
			t.Errorf("%s = %q (present %v), want %q", k, p.Get(k), ok, v)
		}
	}

	// Signed for another public URL: the gateway refuses it.
	resp, err = s.PostInboundSMS(ctx, client, "https://elsewhere.example", srv.URL, url.Values{"From": {"+393471234567"}, "To": {"+39055055"}, "Body": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong public URL: %d", resp.StatusCode)
	}
}

func TestPostVoiceAndStatus(t *testing.T) {
	public := "http://127.0.0.1:8080"
	srv, got := gateway(t, public, testToken)
	s := Signer{AccountSID: testSID, AuthToken: testToken}
	ctx := context.Background()
	resp, err := s.PostVoice(ctx, nil, public, srv.URL, url.Values{"From": {"+393471234567"}, "To": {"+390552768000"}, "Digits": {"2"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	p := <-got
	if p.Get("_path") != VoiceWebhookPath || !strings.HasPrefix(p.Get("CallSid"), "CA") || p.Get("Direction") != "inbound" ||
		p.Get("CallStatus") != "ringing" || p.Get("Caller") != "+393471234567" || p.Get("Called") != "+390552768000" ||
		p.Get("Digits") != "2" || p.Get("CalledCountry") != "IT" {
		t.Fatalf("voice fields %v", p)
	}
	resp, err = s.PostVoiceStatus(ctx, nil, public, srv.URL, url.Values{"CallSid": {p.Get("CallSid")}, "CallStatus": {"completed"}, "CallDuration": {"117"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	st := <-got
	if st.Get("_path") != VoiceStatusWebhookPath || st.Get("CallSid") != p.Get("CallSid") || st.Get("CallStatus") != "completed" {
		t.Fatalf("status %v", st)
	}
	resp, err = s.PostMessageStatus(ctx, nil, public, srv.URL, url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ms := <-got
	if ms.Get("_path") != MessageStatusWebhookPath || ms.Get("SmsStatus") != "delivered" || ms.Get("AccountSid") != testSID {
		t.Fatalf("message status %v", ms)
	}
	if _, err := s.PostWebhook(ctx, nil, public, srv.URL, "no-slash", nil); err == nil {
		t.Fatal("path without / accepted")
	}
}

func TestEmulatorInboundStop(t *testing.T) {
	public := "http://127.0.0.1:8080"
	srv, got := gateway(t, public, testToken)
	emu, base := startEmu(t, Options{})
	ctx := context.Background()
	for _, body := range []string{"stop", "START"} {
		resp, err := emu.PostInboundSMS(ctx, nil, public, srv.URL, url.Values{"From": {testTo}, "To": {testFrom}, "Body": {body}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		<-got
		if body == "stop" {
			if !emu.IsUnsubscribed(testTo) {
				t.Fatal("STOP did not unsubscribe")
			}
			wantTwilioError(t, send(t, base, form("To", testTo, "From", testFrom, "Body", "x")), http.StatusBadRequest, 21610)
		}
	}
	if emu.IsUnsubscribed(testTo) {
		t.Fatal("START did not resubscribe")
	}
}
