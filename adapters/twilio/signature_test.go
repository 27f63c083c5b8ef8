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
