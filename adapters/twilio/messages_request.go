package twilio

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"

	twclient "github.com/twilio/twilio-go/client"
)

// The Messages API's create call, the one request an alert fan-out makes a recipient, is built
// here rather than by twilio-go's request handler. On every call that handler parses and formats
// the address, checks the credentials, encodes the form, parses the address again and sets the
// basic auth twice: a tenth of the gateway's CPU in a fan-out (BENCHMARKS.md). Here the address
// and the headers are made once per Sender. The request is the one twilio-go sends, which
// TestMessagesRequestIsTwilioGos checks, and an error answer is decoded into twilio-go's
// TwilioRestError as twilio-go decodes it. Calls, lookups and recordings still go through
// twilio-go.

// messagesEndpoint is the Messages resource's address, with APIBaseURL applied, and the headers
// of every create request.
type messagesEndpoint struct {
	url    url.URL
	header http.Header
}

func newMessagesEndpoint(accountSID, authToken string, apiBase *url.URL) messagesEndpoint {
	path := "/2010-04-01/Accounts/" + accountSID + "/Messages.json"
	u := url.URL{Scheme: "https", Host: "api.twilio.com", Path: path}
	if apiBase != nil {
		u = url.URL{Scheme: apiBase.Scheme, Host: apiBase.Host, Path: strings.TrimSuffix(apiBase.Path, "/") + path}
	}
	return messagesEndpoint{url: u, header: http.Header{
		"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(accountSID+":"+authToken))},
		"Content-Type":  {"application/x-www-form-urlencoded"},
		"User-Agent":    {"twilio-go/" + twclient.LibraryVersion + " (" + runtime.GOOS + " " + runtime.GOARCH + ") go/" + runtime.Version()},
	}}
}

// request is a create request carrying the encoded form, for sendTransport, which gives it the
// call's context. Its header is a copy: a supplied transport may change it.
func (m *messagesEndpoint) request(form string) *http.Request {
	u := m.url
	return &http.Request{
		Method:     http.MethodPost,
		URL:        &u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     m.header.Clone(),
		Body:       io.NopCloser(strings.NewReader(form)),
		// The transport asks for the body again to retry on a kept-alive connection that closed.
		GetBody:       func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(form)), nil },
		ContentLength: int64(len(form)),
		Host:          u.Host,
	}
}

// messageForm is a message's form encoded as url.Values encodes it (keys sorted, each value
// query-escaped), without building the map. Values with an empty string are left out, as Send
// leaves them out.
type messageForm struct {
	Body, From, MessagingServiceSid, StatusCallback, To string
	MediaURLs                                           []string
}

func (f *messageForm) encode() string {
	var b strings.Builder
	b.Grow(len(f.Body)*3/2 + len(f.StatusCallback)*3/2 + 96)
	add := func(key, value string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(key)
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(value))
	}
	if f.Body != "" {
		add("Body", f.Body)
	}
	if f.From != "" {
		add("From", f.From)
	}
	for _, m := range f.MediaURLs {
		add("MediaUrl", m)
	}
	if f.MessagingServiceSid != "" {
		add("MessagingServiceSid", f.MessagingServiceSid)
	}
	if f.StatusCallback != "" {
		add("StatusCallback", f.StatusCallback)
	}
	add("To", f.To)
	return b.String()
}

// createMessage posts an encoded message form to the Messages API and reads sid and status of
// the answer (readCreated). status is the answer's HTTP status, 0 if none arrived.
func (c *sendRestClient) createMessage(ctx context.Context, endpoint *messagesEndpoint, form string) (created createdMessage, status int, err error) {
	callCtx, done := c.callContext(ctx)
	defer done()
	// The endpoint's address already carries APIBaseURL; the transport leaves it as it is.
	rt := sendTransport{ctx: callCtx, base: c.transport}
	resp, err := rt.RoundTrip(endpoint.request(form))
	if err != nil {
		return created, rt.status, err
	}
	resp.Body.Close() //nolint:errcheck,gosec // the body is in memory: sendTransport read it whole into rt.body
	// As twilio-go: a redirect is not followed (it means something else answered), and an
	// answer under 200 or from 400 up is an error in Twilio's format when it can be read as one.
	if rt.status < 200 || rt.status >= 400 {
		return created, rt.status, restErrorOf(rt.body, rt.status)
	}
	if created, err = readCreated(rt.body); err != nil {
		return created, rt.status, fmt.Errorf("decoding Twilio's answer (HTTP %d): %w", rt.status, err)
	}
	return created, rt.status, nil
}

// restErrorOf decodes an error answer as twilio-go's client does.
func restErrorOf(body []byte, status int) error {
	restErr := &twclient.TwilioRestError{}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(restErr); err != nil {
		return fmt.Errorf("error decoding the response for an HTTP error code: %s: %w", strconv.Itoa(status), err)
	}
	return restErr
}
