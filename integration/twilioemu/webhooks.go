package twilioemu

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Webhook paths of the gateway (CONTRACT.md section 4.1).
const (
	SMSWebhookPath           = "/webhooks/twilio/sms"
	VoiceWebhookPath         = "/webhooks/twilio/voice"
	VoiceStatusWebhookPath   = "/webhooks/twilio/voice/status"
	MessageStatusWebhookPath = "/webhooks/twilio/status"
)

// webhookTimeout applies when the caller passes no http.Client.
const webhookTimeout = 30 * time.Second

// PostWebhook posts params as a form to gatewayURL+path, signed as Twilio signs it: over
// publicURL+path, the address the gateway is configured to be reached at (a proxy may stand between
// them). path may carry a query; it is part of what is signed. A nil httpClient means a client
// with a 30 s timeout. The caller closes the response body.
func (s Signer) PostWebhook(ctx context.Context, httpClient *http.Client, publicURL, gatewayURL, path string, params url.Values) (*http.Response, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("twilioemu: webhook path %q must start with /", path)
	}
	if s.AuthToken == "" {
		return nil, errors.New("twilioemu: Signer has no AuthToken")
	}
	signedURL := strings.TrimRight(publicURL, "/") + path
	target := strings.TrimRight(gatewayURL, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(params.Encode()))
	if err != nil {
		return nil, fmt.Errorf("twilioemu: webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("I-Twilio-Idempotency-Token", NewSid(""))
	req.Header.Set("X-Twilio-Signature", s.Sign(signedURL, params))
	if httpClient == nil {
		httpClient = &http.Client{Timeout: webhookTimeout}
	}
	return httpClient.Do(req)
}

// PostInboundSMS posts an inbound SMS webhook to /webhooks/twilio/sms. params needs at least From,
// To and Body; FillInboundSMS completes the rest (params itself is not changed: set MessageSid
// yourself to know it).
func (s Signer) PostInboundSMS(ctx context.Context, httpClient *http.Client, publicURL, gatewayURL string, params url.Values) (*http.Response, error) {
	return s.PostWebhook(ctx, httpClient, publicURL, gatewayURL, SMSWebhookPath, FillInboundSMS(params, s.AccountSID))
}

// PostVoice posts an incoming-call webhook to /webhooks/twilio/voice, completed by FillVoice.
func (s Signer) PostVoice(ctx context.Context, httpClient *http.Client, publicURL, gatewayURL string, params url.Values) (*http.Response, error) {
	return s.PostWebhook(ctx, httpClient, publicURL, gatewayURL, VoiceWebhookPath, FillVoice(params, s.AccountSID))
}

// PostVoiceStatus posts a call status callback to /webhooks/twilio/voice/status; params needs
// CallSid and CallStatus (and CallDuration, RecordingUrl as the test needs), completed by FillVoice.
func (s Signer) PostVoiceStatus(ctx context.Context, httpClient *http.Client, publicURL, gatewayURL string, params url.Values) (*http.Response, error) {
	return s.PostWebhook(ctx, httpClient, publicURL, gatewayURL, VoiceStatusWebhookPath, FillVoice(params, s.AccountSID))
}

// PostMessageStatus posts an outbound message status callback to /webhooks/twilio/status; params
// needs MessageSid and MessageStatus (and ErrorCode for failures).
func (s Signer) PostMessageStatus(ctx context.Context, httpClient *http.Client, publicURL, gatewayURL string, params url.Values) (*http.Response, error) {
	p := clone(params)
	setDefault(p, "AccountSid", s.AccountSID)
	setDefault(p, "ApiVersion", APIVersion)
	if sid := p.Get("MessageSid"); sid != "" {
		setDefault(p, "SmsSid", sid)
	}
	if st := p.Get("MessageStatus"); st != "" {
		setDefault(p, "SmsStatus", st)
	}
	return s.PostWebhook(ctx, httpClient, publicURL, gatewayURL, MessageStatusWebhookPath, p)
}

var mediaURLKey = regexp.MustCompile(`^MediaUrl[0-9]+$`)

// FillInboundSMS returns a copy of params completed with the fields Twilio sends for an incoming
// message: MessageSid (SM..., or MM... with media), SmsSid, SmsMessageSid, AccountSid, Body,
// NumMedia, NumSegments, SmsStatus "received", ApiVersion, and the From/To City, State, Zip and
// Country fields (empty where Twilio knows nothing, as it sends them for Italian numbers). Fields
// already present are kept.
func FillInboundSMS(params url.Values, accountSID string) url.Values {
	p := clone(params)
	numMedia := 0
	for k := range p {
		if mediaURLKey.MatchString(k) {
			numMedia++
		}
	}
	prefix := "SM"
	if numMedia > 0 {
		prefix = "MM"
	}
	setDefault(p, "MessageSid", NewSid(prefix))
	setDefault(p, "SmsSid", p.Get("MessageSid"))
	setDefault(p, "SmsMessageSid", p.Get("MessageSid"))
	setDefault(p, "AccountSid", accountSID)
	if _, ok := p["Body"]; !ok {
		p.Set("Body", "")
	}
	setDefault(p, "NumMedia", strconv.Itoa(numMedia))
	n, _ := segments(p.Get("Body"))
	setDefault(p, "NumSegments", strconv.Itoa(max(n, 1)))
	setDefault(p, "SmsStatus", "received")
	setDefault(p, "ApiVersion", APIVersion)
	addPlace(p, "From", p.Get("From"))
	addPlace(p, "To", p.Get("To"))
	return p
}

// FillVoice returns a copy of params completed with the fields Twilio sends for an incoming call:
// CallSid (CA...), AccountSid, ApiVersion, Direction "inbound", CallStatus "ringing", Caller and
// Called, and the place fields of From, To, Caller and Called. Digits, SpeechResult,
// CallDuration, RecordingUrl and the like are sent only when params has them.
func FillVoice(params url.Values, accountSID string) url.Values {
	p := clone(params)
	setDefault(p, "CallSid", NewSid("CA"))
	setDefault(p, "AccountSid", accountSID)
	setDefault(p, "ApiVersion", APIVersion)
	setDefault(p, "Direction", "inbound")
	setDefault(p, "CallStatus", "ringing")
	setDefault(p, "Caller", p.Get("From"))
	setDefault(p, "Called", p.Get("To"))
	for _, who := range []string{"From", "To", "Caller", "Called"} {
		addPlace(p, who, p.Get(who))
	}
	return p
}

// addPlace adds Twilio's geographic fields for one party, the country from the number.
func addPlace(p url.Values, who, number string) {
	country := ""
	if n, err := phonenumbers.Parse(number, ""); err == nil {
		country = phonenumbers.GetRegionCodeForNumber(n)
	}
	setDefault(p, who+"City", "")
	setDefault(p, who+"State", "")
	setDefault(p, who+"Zip", "")
	setDefault(p, who+"Country", country)
}

func setDefault(p url.Values, key, value string) {
	if _, ok := p[key]; !ok {
		p.Set(key, value)
	}
}

func clone(v url.Values) url.Values {
	out := make(url.Values, len(v)+24)
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// Twilio's default opt-out and opt-in keywords for long codes.
var (
	optOutKeywords = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true, "END": true, "QUIT": true}
	optInKeywords  = map[string]bool{"START": true, "YES": true, "UNSTOP": true}
)

// PostInboundSMS is Signer.PostInboundSMS with the emulator's account, and with Twilio's Advanced
// Opt-Out: a message whose whole body is one of Twilio's opt-out keywords (STOP, STOPALL,
// UNSUBSCRIBE, CANCEL, END, QUIT) puts From in the unsubscribed set before the webhook is posted,
// and START, YES or UNSTOP takes it out, as Twilio does.
func (e *Emulator) PostInboundSMS(ctx context.Context, httpClient *http.Client, publicURL, gatewayURL string, params url.Values) (*http.Response, error) {
	word := strings.ToUpper(strings.TrimSpace(params.Get("Body")))
	from := params.Get("From")
	switch {
	case optOutKeywords[word]:
		e.Unsubscribe(from)
	case optInKeywords[word]:
		e.Resubscribe(from)
	}
	return e.sig.PostInboundSMS(ctx, httpClient, publicURL, gatewayURL, params)
}
