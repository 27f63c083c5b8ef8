package twilio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"
	twclient "github.com/twilio/twilio-go/client"

	"github.com/sportello/sportello/channels"
)

// DefaultSendTimeout bounds one Messages API call when SenderOptions.Timeout is zero.
const DefaultSendTimeout = 10 * time.Second

// ErrAuthTokenNotAlphanumeric is returned by NewSender for an auth token with characters other
// than ASCII letters and digits. twilio-go v1.31.0 refuses such a token itself, before any
// request, with its error 21224 ("Invalid Password. Illegal chars"), so every send would fail;
// real Twilio auth tokens are 32 hex digits. The same holds for the account SID (21222).
var ErrAuthTokenNotAlphanumeric = errors.New("twilio: auth token must contain only letters and digits (twilio-go refuses any other token with error 21224)")

// SenderOptions configures a Sender.
type SenderOptions struct {
	AccountSID string
	AuthToken  string
	// APIBaseURL replaces https://api.twilio.com (for example an emulator's URL, optionally with
	// a path prefix); empty means the real Twilio.
	APIBaseURL string
	// From is the default sender number or alphanumeric ID; OutboundMessage.From overrides it.
	From string
	// MessagingServiceSID sends through a Messaging Service; it is used alone when no From
	// applies, and alongside From otherwise (Twilio then sends from that number of the service).
	MessagingServiceSID string
	// Timeout bounds one API call (default: HTTPClient's Timeout if set, else DefaultSendTimeout).
	Timeout time.Duration
	// HTTPClient supplies the transport (and the timeout when Timeout is zero). Nil means a
	// transport of the Sender's own.
	HTTPClient *http.Client
}

var sendSIDPattern = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// Sender sends SMS through Twilio's Messages API, with the request twilio-go would send, built
// once (messages_request.go). It implements channels.Sender and is safe for concurrent use.
type Sender struct {
	rest       sendRestClient
	messages   messagesEndpoint
	from       string
	serviceSID string
	own        *http.Transport // the transport NewSender made, closed by Close
}

var _ channels.Sender = (*Sender)(nil)

// NewSender checks the options and returns a Sender.
func NewSender(opts SenderOptions) (*Sender, error) {
	switch {
	case opts.AccountSID == "":
		return nil, errors.New("twilio: AccountSID is required")
	case !sendSIDPattern.MatchString(opts.AccountSID):
		return nil, errors.New("twilio: AccountSID must contain only letters and digits (twilio-go refuses any other with error 21222)")
	case opts.AuthToken == "":
		return nil, errors.New("twilio: AuthToken is required")
	case !sendSIDPattern.MatchString(opts.AuthToken):
		return nil, ErrAuthTokenNotAlphanumeric
	case opts.From == "" && opts.MessagingServiceSID == "":
		return nil, errors.New("twilio: From or MessagingServiceSID is required")
	case opts.Timeout < 0:
		return nil, errors.New("twilio: Timeout must not be negative")
	}
	s := &Sender{
		rest:       sendRestClient{accountSID: opts.AccountSID, authToken: opts.AuthToken, timeout: opts.Timeout},
		from:       opts.From,
		serviceSID: opts.MessagingServiceSID,
	}
	if opts.APIBaseURL != "" {
		u, err := url.Parse(opts.APIBaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("twilio: APIBaseURL %q is not an http(s) base URL", opts.APIBaseURL)
		}
		s.rest.apiBase = u
	}
	s.messages = newMessagesEndpoint(opts.AccountSID, opts.AuthToken, s.rest.apiBase)
	if opts.HTTPClient != nil {
		s.rest.transport = opts.HTTPClient.Transport
		if s.rest.timeout == 0 {
			s.rest.timeout = opts.HTTPClient.Timeout
		}
	}
	if s.rest.transport == nil {
		s.own = http.DefaultTransport.(*http.Transport).Clone()
		// Sends run concurrently up to the deployment's pace; keep their connections warm.
		s.own.MaxIdleConnsPerHost = 64
		s.rest.transport = s.own
	}
	if s.rest.timeout == 0 {
		s.rest.timeout = DefaultSendTimeout
	}
	return s, nil
}

// Send creates one message. It returns Twilio's sid and initial status ("queued", or "accepted"
// through a Messaging Service). Failures are *channels.SendError, Permanent when retrying cannot
// help (see sendErrorFrom), except that a cancelled or expired ctx returns ctx's error.
//
// A timeout or broken connection after the request was written is temporary, but Twilio may
// have accepted the message: its Messages API has no idempotency key, so a retry can duplicate.
func (s *Sender) Send(ctx context.Context, out channels.OutboundMessage) (channels.SendResult, error) {
	if out.Channel != "" && out.Channel != channels.SMS {
		return channels.SendResult{}, &channels.SendError{Message: fmt.Sprintf("the Twilio sender sends SMS, not %s", out.Channel), Permanent: true}
	}
	form := messageForm{To: strings.TrimSpace(out.To), From: out.From, MessagingServiceSid: s.serviceSID, Body: out.Body, StatusCallback: out.StatusCallback}
	if form.From == "" {
		form.From = s.from
	}
	for _, a := range out.Attachments {
		if a.URL == "" {
			return channels.SendResult{}, &channels.SendError{
				Message:   fmt.Sprintf("attachment %q has no URL: Twilio fetches MMS media by public URL", a.Filename),
				Permanent: true,
			}
		}
		form.MediaURLs = append(form.MediaURLs, a.URL)
	}

	created, status, err := s.rest.createMessage(ctx, &s.messages, form.encode())
	if err != nil {
		if ctx.Err() != nil {
			return channels.SendResult{}, fmt.Errorf("twilio: send to %s: %w", out.To, context.Cause(ctx))
		}
		return channels.SendResult{}, sendErrorFrom(err, status)
	}
	if created.Sid == "" {
		return channels.SendResult{}, &channels.SendError{
			Message:   fmt.Sprintf("Twilio accepted the message (HTTP %d) but returned no sid; not retried, to avoid a duplicate", status),
			Permanent: true,
		}
	}
	res := channels.SendResult{ExternalID: created.Sid, Status: "queued"}
	if created.Status != "" {
		res.Status = created.Status
	}
	return res, nil
}

// createdMessage is what Send reads of the Message resource Twilio answers with.
type createdMessage struct {
	Sid    string
	Status string
}

// errNotAJSONObject is readCreated's error for an answer that is not one well-formed JSON object.
var errNotAJSONObject = errors.New("the answer is not a JSON object")

// gjsonMaxOpeners bounds the brackets an answer may hold for gjson's validator, which recurses
// once a level with no limit (a megabyte of "[" took 128 MB of stack): an answer with more goes
// to encoding/json's, whose depth is bounded. A Message resource holds about five.
const gjsonMaxOpeners = 256

// readCreated reads sid and status of a created Message resource, and nothing else of it.
// encoding/json scans the whole resource twice (once to find its end, once to decode) and was
// 8 % of the gateway's CPU in an alert fan-out; gjson checks it once and walks its top level
// once. A member that is not a string of valid UTF-8 counts as absent, as does a repeated one
// after the first.
func readCreated(body []byte) (createdMessage, error) {
	var created createdMessage
	valid := false
	if bytes.Count(body, []byte{'{'})+bytes.Count(body, []byte{'['}) <= gjsonMaxOpeners {
		valid = gjson.ValidBytes(body)
	} else {
		valid = json.Valid(body)
	}
	if !valid {
		return created, errNotAJSONObject
	}
	answer := gjson.ParseBytes(body)
	if !answer.IsObject() {
		return created, errNotAJSONObject
	}
	var sawSid, sawStatus bool
	answer.ForEach(func(key, value gjson.Result) bool {
		switch {
		case key.Str == "sid" && !sawSid:
			sawSid = true
			created.Sid = stringMember(value)
		case key.Str == "status" && !sawStatus:
			sawStatus = true
			created.Status = stringMember(value)
		}
		return !sawSid || !sawStatus
	})
	return created, nil
}

// stringMember is a JSON value's string, or "" when it is not a string of valid UTF-8.
func stringMember(value gjson.Result) string {
	if value.Type != gjson.String || !utf8.ValidString(value.Str) {
		return ""
	}
	return value.Str
}

// Close releases the idle connections of the transport NewSender created (not of a supplied
// HTTPClient's).
func (s *Sender) Close() error {
	if s.own != nil {
		s.own.CloseIdleConnections()
	}
	return nil
}

// sendPermanentCodes are refusals about the message itself: sending it again cannot succeed.
var sendPermanentCodes = map[int]bool{
	21211: true, // invalid To number
	21408: true, // no permission to send to that region
	21602: true, // no body
	21610: true, // recipient unsubscribed (texted STOP)
	21612: true, // To not reachable from this From
	21614: true, // To is not a mobile number
	21617: true, // body over 1600 characters
}

// sendTemporaryCodes are 4xx refusals that pass with time.
var sendTemporaryCodes = map[int]bool{
	20429: true, // too many requests
	21611: true, // the From number's queue is full
}

// sendIsPermanent classifies a Twilio error code and HTTP status.
func sendIsPermanent(code, status int) bool {
	switch {
	case sendPermanentCodes[code]:
		return true
	case sendTemporaryCodes[code], status == http.StatusTooManyRequests, status >= 500:
		return false
	case status >= 400:
		return true
	}
	return false
}

// sendErrorFrom turns a twilio-go failure into a *channels.SendError: permanent for the invalid,
// unsubscribed, unreachable, region-barred, non-mobile, empty or oversized message and for any
// other 4xx (wrong credentials included), temporary for 429, 5xx and network failures. status is
// the HTTP status the transport saw, used when the error body was not Twilio's JSON.
func sendErrorFrom(err error, status int) *channels.SendError {
	var rest *twclient.TwilioRestError
	if errors.As(err, &rest) {
		st := rest.Status
		if st == 0 {
			st = status
		}
		return &channels.SendError{Code: rest.Code, Message: rest.Message, Permanent: sendIsPermanent(rest.Code, st), Err: err}
	}
	var v1 *twclient.RestErrorV1
	if errors.As(err, &v1) {
		st := v1.HttpStatusCode
		if st == 0 {
			st = status
		}
		return &channels.SendError{Code: v1.Code, Message: v1.Message, Permanent: sendIsPermanent(v1.Code, st), Err: err}
	}
	switch {
	case status >= 200 && status < 300:
		return &channels.SendError{
			Message:   fmt.Sprintf("Twilio accepted the message (HTTP %d) but its answer could not be read (%v); not retried, to avoid a duplicate", status, err),
			Permanent: true, Err: err,
		}
	case status >= 400:
		return &channels.SendError{Message: fmt.Sprintf("HTTP %d from Twilio: %v", status, err), Permanent: sendIsPermanent(0, status), Err: err}
	}
	return &channels.SendError{Message: "Twilio unreachable: " + err.Error(), Permanent: false, Err: err}
}
