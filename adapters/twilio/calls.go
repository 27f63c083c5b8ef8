package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/templates"
)

// CallsOptions configure Calls, the REST side of voice: connecting queued calls to operators,
// transferring live calls, calling citizens back.
type CallsOptions struct {
	AccountSID string
	AuthToken  string
	APIBaseURL string
	// PublicURL is where Twilio reaches the gateway's voice webhooks.
	PublicURL string
	// RingSeconds is how long an operator's leg rings (the <Dial> timeout).
	RingSeconds int
	// Record records answered calls (dual channel, from the answer).
	Record  bool
	Text    *templates.Text
	Timeout time.Duration
	// HTTPClient supplies the transport; nil means a transport of Calls' own.
	HTTPClient *http.Client
}

// Calls asks Twilio's REST API to move live calls. It is safe for concurrent use.
type Calls struct {
	o    CallsOptions
	rest sendRestClient
}

// ErrCallGone is a call Twilio no longer has in progress (the caller hung up): 21220 or 404.
// It is channels.ErrCallGone, which the desk acts on, with Twilio's name.
var ErrCallGone = fmt.Errorf("twilio: %w", channels.ErrCallGone)

// NewCalls validates the options.
func NewCalls(o CallsOptions) (*Calls, error) {
	switch {
	case !sendSIDPattern.MatchString(o.AccountSID):
		return nil, errors.New("twilio: calls need an account SID of letters and digits")
	case !sendSIDPattern.MatchString(o.AuthToken):
		return nil, ErrAuthTokenNotAlphanumeric
	case o.Text == nil:
		return nil, errors.New("twilio: calls need templates")
	case o.RingSeconds <= 0:
		return nil, errors.New("twilio: RingSeconds must be positive")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultSendTimeout
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	c := &Calls{o: o, rest: sendRestClient{accountSID: o.AccountSID, authToken: o.AuthToken, timeout: o.Timeout, watchSent: true}}
	if o.APIBaseURL != "" {
		u, err := url.Parse(o.APIBaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("twilio: APIBaseURL %q is not an http(s) base URL", o.APIBaseURL)
		}
		c.rest.apiBase = u
	}
	if o.HTTPClient != nil {
		c.rest.transport = o.HTTPClient.Transport
	}
	if c.rest.transport == nil {
		c.rest.transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	return c, nil
}

func (c *Calls) hook(path string, q url.Values) string {
	u := c.o.PublicURL + "/webhooks/twilio/voice/" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// Offer connects a queued call to an operator: their browser (<Client> with the username as
// identity) or, with a phone, their number or SIP address with a whisper the operator accepts
// by pressing 1 (a voicemail cannot, so it never takes the call). The <Dial> rings for
// RingSeconds; its action tells the gateway whether anyone answered. offer names this offer:
// every callback about it carries the name back, so news of an older offer is told apart.
func (c *Calls) Offer(ctx context.Context, callSid, contactID, username, phone, offer string) error {
	q := url.Values{"contact": {contactID}, "operator": {username}, "offer": {offer}}
	data := map[string]any{
		"Ring":      c.o.RingSeconds,
		"DialedURL": c.hook("dialed", q),
		"LegURL":    c.hook("leg", q),
		"Identity":  ClientIdentity(username),
		"ContactID": contactID,
		"Record":    c.o.Record,
	}
	if c.o.Record {
		data["RecordingURL"] = c.hook("recorded", url.Values{"contact": {contactID}})
	}
	switch {
	case strings.HasPrefix(phone, "sip:"):
		data["Sip"], data["WhisperURL"] = phone, c.hook("whisper", q)
	case phone != "":
		data["Number"], data["WhisperURL"] = phone, c.hook("whisper", q)
	}
	doc, err := c.o.Text.Render("voice/connect.xml", data)
	if err != nil {
		return err
	}
	return c.update(ctx, callSid, doc)
}

// Hold takes a live call away from the operator's leg into a queue of its own (the caller hears
// a short message and waits); Offer brings it back to the operator.
func (c *Calls) Hold(ctx context.Context, callSid, contactID string) error {
	doc, err := c.o.Text.Render("voice/hold.xml", map[string]any{"Queue": "hold-" + contactID,
		"WaitURL": c.hook("hold", url.Values{"contact": {contactID}})})
	if err != nil {
		return err
	}
	return c.update(ctx, callSid, doc)
}

// Transfer sends a live call to an office's number (a cold transfer: the operator's leg ends).
func (c *Calls) Transfer(ctx context.Context, callSid, contactID, number string) error {
	doc, err := c.o.Text.Render("voice/transfer.xml", map[string]any{"Number": number})
	if err != nil {
		return err
	}
	return c.update(ctx, callSid, doc)
}

// CallBack calls the operator (phone or browser) and, once they answer, the citizen, from the
// centre's number. It returns the new call's sid.
func (c *Calls) CallBack(ctx context.Context, contactID, username, phone, citizen, callerID string) (string, error) {
	to := phone
	if to == "" {
		to = "client:" + ClientIdentity(username)
	}
	q := url.Values{"contact": {contactID}, "operator": {username}}
	doc, err := c.o.Text.Render("voice/callback.xml", map[string]any{"Number": citizen, "CallerID": callerID,
		"DialedURL": c.hook("callback/dialed", q), "Ring": max(c.o.RingSeconds, 30)})
	if err != nil {
		return "", err
	}
	var rt sendTransport
	params := &twapi.CreateCallParams{}
	params.SetTo(to)
	params.SetFrom(callerID)
	params.SetTwiml(doc)
	params.SetTimeout(c.o.RingSeconds)
	params.SetStatusCallback(c.hook("callback/status", q))
	api, done := c.rest.api(ctx, &rt)
	defer done()
	call, err := api.CreateCall(params)
	if err != nil {
		return "", c.fail(ctx, err, &rt)
	}
	if call.Sid == nil {
		return "", errors.New("twilio: the created call has no sid")
	}
	return *call.Sid, nil
}

// Hangup ends a live call.
func (c *Calls) Hangup(ctx context.Context, callSid string) error {
	var rt sendTransport
	params := &twapi.UpdateCallParams{}
	params.SetStatus("completed")
	api, done := c.rest.api(ctx, &rt)
	defer done()
	if _, err := api.UpdateCall(callSid, params); err != nil {
		return c.fail(ctx, err, &rt)
	}
	return nil
}

func (c *Calls) update(ctx context.Context, callSid, twiml string) error {
	var rt sendTransport
	params := &twapi.UpdateCallParams{}
	params.SetTwiml(twiml)
	api, done := c.rest.api(ctx, &rt)
	defer done()
	if _, err := api.UpdateCall(callSid, params); err != nil {
		return c.fail(ctx, err, &rt)
	}
	return nil
}

// fail maps a REST call's failure for the desk: ErrCallGone for a call Twilio no longer has,
// channels.ErrOutcomeUnknown when Twilio may have carried the request out all the same (it was
// sent and no answer came: a timeout, a connection reset), and otherwise a definite refusal.
func (c *Calls) fail(ctx context.Context, err error, rt *sendTransport) error {
	unknown := rt.outcomeUnknown()
	if ctx.Err() != nil {
		err = context.Cause(ctx)
		if unknown {
			return fmt.Errorf("twilio: %w: %w", channels.ErrOutcomeUnknown, err)
		}
		return err
	}
	var rest *twclient.TwilioRestError
	if errors.As(err, &rest) && (rest.Code == 21220 || rest.Status == http.StatusNotFound) {
		return fmt.Errorf("%w: %s", ErrCallGone, rest.Message)
	}
	if rt.status == http.StatusNotFound {
		return ErrCallGone
	}
	if unknown {
		return fmt.Errorf("twilio: call update (HTTP %s): %w: %w", strconv.Itoa(rt.status), channels.ErrOutcomeUnknown, err)
	}
	return fmt.Errorf("twilio: call update (HTTP %s): %w", strconv.Itoa(rt.status), err)
}

// ClientIdentity is the softphone identity of a user: Twilio Client identities are safest as
// letters, digits and underscores.
func ClientIdentity(username string) string {
	var b strings.Builder
	for _, r := range username {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteString("_" + strconv.FormatInt(int64(r), 16) + "_")
		}
	}
	return b.String()
}

// recordingSidPattern is a Twilio recording sid; nothing else is put in a recording's URL.
var recordingSidPattern = regexp.MustCompile(`^RE[0-9a-fA-F]{32}$`)

// Recording streams a call recording (MP3) from Twilio's REST API with the account's
// credentials; the caller closes it. Operators hear it through the gateway, never from a raw
// provider URL.
func (c *Calls) Recording(ctx context.Context, recordingSid string) (io.ReadCloser, string, error) {
	if !recordingSidPattern.MatchString(recordingSid) {
		return nil, "", fmt.Errorf("twilio: %q is not a recording sid", recordingSid)
	}
	base := "https://api.twilio.com"
	if c.rest.apiBase != nil {
		base = strings.TrimRight(c.rest.apiBase.String(), "/")
	}
	u := base + "/2010-04-01/Accounts/" + c.o.AccountSID + "/Recordings/" + recordingSid + ".mp3"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	req.SetBasicAuth(c.o.AccountSID, c.o.AuthToken)
	// A recording can take a while to stream; the request's context bounds it.
	resp, err := (&http.Client{Transport: c.rest.transport, Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("twilio: fetching recording %s: %w", recordingSid, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, "", fmt.Errorf("twilio: fetching recording %s: HTTP %d", recordingSid, resp.StatusCode)
	}
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "audio/mpeg"
	}
	return resp.Body, ct, nil
}
