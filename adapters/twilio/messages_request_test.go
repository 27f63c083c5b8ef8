package twilio

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"

	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/sportello/sportello/channels"
)

// sentRequest is what a recording transport kept of one request.
type sentRequest struct {
	method, url string
	header      http.Header
	form        url.Values
	rawBody     string
}

// recordingTransport keeps each request and answers with answer (status and body).
type recordingTransport struct {
	mu     sync.Mutex
	got    []sentRequest
	status int
	body   string
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, err
	}
	rt.mu.Lock()
	rt.got = append(rt.got, sentRequest{method: r.Method, url: r.URL.String(), header: r.Header.Clone(), form: form, rawBody: string(b)})
	rt.mu.Unlock()
	return &http.Response{StatusCode: rt.status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(rt.body)), ContentLength: int64(len(rt.body)), Request: r}, nil
}

func (rt *recordingTransport) last(t *testing.T) sentRequest {
	t.Helper()
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if len(rt.got) == 0 {
		t.Fatal("no request sent")
	}
	return rt.got[len(rt.got)-1]
}

// The create request Send builds is the one twilio-go's CreateMessage sends for the same message:
// the same method, address, headers and form.
func TestMessagesRequestIsTwilioGos(t *testing.T) {
	service := "MG0123456789abcdef0123456789abcdef"
	cases := []struct {
		name string
		opts SenderOptions
		out  channels.OutboundMessage
	}{
		{name: "from", opts: SenderOptions{From: sendTestFrom}, out: sms(sendTestTo, "Blocco del traffico: domenica 8-20 & ZTL attiva, 100% dei varchi")},
		{name: "service and media", opts: SenderOptions{MessagingServiceSID: service},
			out: channels.OutboundMessage{Channel: channels.SMS, To: " " + sendTestTo, Body: "foto è qui",
				Attachments: []channels.Attachment{{URL: "https://gw.example/media/a b.jpg"}, {URL: "https://gw.example/media/c.png?x=1&y=2"}}}},
		{name: "from, service and callback", opts: SenderOptions{From: sendTestFrom, MessagingServiceSID: service},
			out: channels.OutboundMessage{Channel: channels.SMS, To: sendTestTo, From: "Comune", Body: "👋 +39 055",
				StatusCallback: "https://gw.example/webhooks/twilio/status?of=alert&alert=01a2&seq=7"}},
		{name: "no body", opts: SenderOptions{From: sendTestFrom}, out: channels.OutboundMessage{To: sendTestTo,
			Attachments: []channels.Attachment{{URL: "https://gw.example/m.jpg"}}}},
	}
	answer := `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}`
	for _, base := range []string{"", "http://127.0.0.1:8089/twilio/"} {
		for _, c := range cases {
			t.Run(c.name+" "+base, func(t *testing.T) {
				ours := &recordingTransport{status: http.StatusCreated, body: answer}
				opts := c.opts
				opts.AccountSID, opts.AuthToken, opts.APIBaseURL = sendTestSID, sendTestToken, base
				opts.HTTPClient = &http.Client{Transport: ours}
				s, err := NewSender(opts)
				if err != nil {
					t.Fatal(err)
				}
				res, err := s.Send(context.Background(), c.out)
				if err != nil || res.ExternalID != "SM0123456789abcdef0123456789abcdef" || res.Status != "queued" {
					t.Fatalf("Send = %+v, %v", res, err)
				}

				theirs := &recordingTransport{status: http.StatusCreated, body: answer}
				var rt sendTransport
				rest := sendRestClient{accountSID: sendTestSID, authToken: sendTestToken, transport: theirs, timeout: DefaultSendTimeout}
				if base != "" {
					rest.apiBase, _ = url.Parse(base)
				}
				api, done := rest.api(context.Background(), &rt)
				defer done()
				if _, err := api.CreateMessage(twilioGoParams(s, c.out)); err != nil {
					t.Fatal(err)
				}

				got, want := ours.last(t), theirs.last(t)
				if got.method != want.method || got.url != want.url {
					t.Errorf("request %s %s, twilio-go's %s %s", got.method, got.url, want.method, want.url)
				}
				if !reflect.DeepEqual(got.form, want.form) {
					t.Errorf("form %v, twilio-go's %v", got.form, want.form)
				}
				if !maps.EqualFunc(got.header, want.header, slicesEqual) {
					t.Errorf("headers %v, twilio-go's %v", got.header, want.header)
				}
			})
		}
	}
}

// twilioGoParams are CreateMessage's parameters for what Send sends of out.
func twilioGoParams(s *Sender, out channels.OutboundMessage) *twapi.CreateMessageParams {
	p := &twapi.CreateMessageParams{}
	p.SetTo(strings.TrimSpace(out.To))
	if from := cmp(out.From, s.from); from != "" {
		p.SetFrom(from)
	}
	if s.serviceSID != "" {
		p.SetMessagingServiceSid(s.serviceSID)
	}
	if out.Body != "" {
		p.SetBody(out.Body)
	}
	var media []string
	for _, a := range out.Attachments {
		media = append(media, a.URL)
	}
	if media != nil {
		p.SetMediaUrl(media)
	}
	if out.StatusCallback != "" {
		p.SetStatusCallback(out.StatusCallback)
	}
	return p
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func slicesEqual(a, b []string) bool { return reflect.DeepEqual(a, b) }

// The form is encoded byte for byte as url.Values encodes it.
func TestMessageFormEncodesAsURLValues(t *testing.T) {
	f := messageForm{Body: "a&b=c è 100%", From: "+39 055", MessagingServiceSid: "MG1", StatusCallback: "https://x/y?a=1&b=2",
		To: "+393471234567", MediaURLs: []string{"https://m/1.jpg", "https://m/2 3.jpg"}}
	want := url.Values{"Body": {f.Body}, "From": {f.From}, "MessagingServiceSid": {"MG1"}, "StatusCallback": {f.StatusCallback},
		"To": {f.To}, "MediaUrl": f.MediaURLs}.Encode()
	if got := f.encode(); got != want {
		t.Fatalf("encode() = %q, url.Values gives %q", got, want)
	}
	if got, want := (&messageForm{To: "+1"}).encode(), "To=%2B1"; got != want {
		t.Fatalf("encode() = %q, want %q", got, want)
	}
}

// An error answer is decoded as twilio-go decodes it, and one that is not Twilio's JSON says so.
func TestMessagesErrorAnswers(t *testing.T) {
	rt := &recordingTransport{status: http.StatusBadRequest, body: `{"code":21211,"message":"The 'To' number is not valid.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`}
	s, err := NewSender(SenderOptions{AccountSID: sendTestSID, AuthToken: sendTestToken, From: sendTestFrom, HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	se := wantSendError(t, sendErr(s.Send(context.Background(), sms("+39123", "x"))), 21211, true)
	var rest *twclient.TwilioRestError
	if !errors.As(se.Err, &rest) || rest.MoreInfo == "" {
		t.Fatalf("error %#v does not keep twilio-go's TwilioRestError", se.Err)
	}
	rt.status, rt.body = http.StatusFound, ""
	se = wantSendError(t, sendErr(s.Send(context.Background(), sms(sendTestTo, "x"))), 0, false)
	if !strings.Contains(se.Message, "(HTTP 302)") {
		t.Fatalf("a redirect gave %q", se.Message)
	}
}
