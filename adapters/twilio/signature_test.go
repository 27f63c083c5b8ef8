package twilio

import (
	"net/url"
	"testing"

	twclient "github.com/twilio/twilio-go/client"
)

// Our signer gives twilio-go's own known answer, and twilio-go's validator accepts it.
func TestSignatureMatchesTwilioGo(t *testing.T) {
	form := url.Values{"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"}, "Caller": {"+14158675309"},
		"From": {"+14158675309"}, "ReasonConferenceEnded": {"test"}, "Reason": {"Participant"}}
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	sig := Signature("12345", u, form)
	if sig != "vOEb5UThFn24KEfnOFLQY2AE5FY=" {
		t.Fatalf("signature %q differs from twilio-go's known answer", sig)
	}
	params := map[string]string{}
	for k := range form {
		params[k] = form.Get(k)
	}
	v := twclient.NewRequestValidator("12345")
	if !v.Validate(u, params, sig) {
		t.Fatal("twilio-go rejects our signature")
	}
}

// The webhooks accept a request when its signature is Signature's (one HMAC) before asking
// twilio-go's validator: whatever Signature gives for a form of single values, twilio-go
// accepts too, so the shortcut lets in nothing the validator would refuse.
func FuzzSignatureAgreesWithTwilioGo(f *testing.F) {
	f.Add("https://gw.example/webhooks/twilio/sms?x=1", "Body", "ciao", "From", "+39347")
	f.Add("https://gw.example:443/webhooks/twilio/voice", "", "", "Z", "\x00")
	f.Add("http://127.0.0.1:8080/p?a=%20", "MessageSid", "SM0123456789abcdef0123456789abcdef", "AccountSid", "AC")
	v := twclient.NewRequestValidator("fuzztoken")
	f.Fuzz(func(t *testing.T, u, k1, v1, k2, v2 string) {
		form := url.Values{k1: {v1}}
		if k2 != k1 {
			form[k2] = []string{v2}
		}
		params := map[string]string{}
		for k := range form {
			params[k] = form.Get(k)
		}
		if sig := Signature("fuzztoken", u, form); !v.Validate(u, params, sig) {
			t.Fatalf("twilio-go refuses Signature's %q for %q %v", sig, u, form)
		}
	})
}
