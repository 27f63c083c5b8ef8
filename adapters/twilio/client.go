package twilio

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// twilio-go v1.31.0 takes no context.Context: it builds every request on context.Background().
// So each call builds a small twilio-go client whose transport (sendTransport) carries that
// call's context, bounded by the timeout: cancelling the context aborts the request. The
// timeout is in that context rather than in the http.Client's Timeout on purpose: for a
// RoundTripper net/http does not know, a Client.Timeout costs a goroutine, a timer and a
// reflection per request (a twelfth of the gateway's CPU in a fan-out when measured). The same
// transport sends requests meant for api.twilio.com to APIBaseURL when one is configured (tests
// point it at integration/twilioemu), reads each answer whole so that twilio-go, which does not
// close error bodies, cannot leak connections, and remembers the HTTP status for the error
// mapping when an error body is not Twilio JSON. For calls it also remembers whether the request
// reached a connection (watchSent): a request that failed after that may have been carried out.

// sendMaxResponseBytes bounds what is read of one answer; a Message resource is about 1 KiB.
const sendMaxResponseBytes = 1 << 20

// sendRestClient holds what every call shares: credentials, the base transport, the timeout.
type sendRestClient struct {
	accountSID string
	authToken  string
	apiBase    *url.URL // nil: the real api.twilio.com
	transport  http.RoundTripper
	timeout    time.Duration
	// watchSent makes every call's transport note when its request is written (sendTransport.sent).
	watchSent bool
}

// api returns a twilio-go API bound to ctx and to the timeout; rt records the call's HTTP
// status. Call done once the call returned.
func (c *sendRestClient) api(ctx context.Context, rt *sendTransport) (api *twapi.ApiService, done context.CancelFunc) {
	tc, done := c.client(ctx, rt)
	return twapi.NewApiServiceWithClient(tc), done
}

// client returns the twilio-go client under api, for calls that build their own request.
func (c *sendRestClient) client(ctx context.Context, rt *sendTransport) (tc *twclient.Client, done context.CancelFunc) {
	callCtx, done := c.callContext(ctx)
	*rt = sendTransport{ctx: callCtx, base: c.transport, apiBase: c.apiBase, watchSent: c.watchSent}
	tc = &twclient.Client{
		Credentials: twclient.NewCredentials(c.accountSID, c.authToken),
		HTTPClient: &http.Client{
			Transport: rt,
			// Twilio answers the create call directly; a redirect means something else answered.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	tc.SetAccountSid(c.accountSID)
	return tc, done
}

// callContext is one call's context: ctx bounded by the timeout.
func (c *sendRestClient) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout > 0 {
		return context.WithTimeout(ctx, c.timeout)
	}
	return context.WithCancel(ctx)
}

// sendTransport is the per-call transport described above.
type sendTransport struct {
	ctx     context.Context
	base    http.RoundTripper
	apiBase *url.URL
	status  int    // HTTP status of the last answer, 0 if none arrived
	body    []byte // the last answer's body, read whole
	// watchSent: note in sent when the request's headers are written to a connection. From
	// then on Twilio may have the request (the rest follows in the same flush), so a failure
	// without an answer leaves its outcome unknown; before, nothing left this process (no
	// connection, refused, or the context ended first). It is atomic because a request's write
	// can outlive RoundTrip when the context ends.
	watchSent bool
	sent      atomic.Bool
}

// outcomeUnknown reports whether the request may have been carried out though no usable answer
// came: it was written and no answer arrived, or an answer said yes (2xx) and could not be read.
func (t *sendTransport) outcomeUnknown() bool {
	switch t.status {
	case 0:
		return t.sent.Load()
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		// A proxy in front of Twilio's API (its edge, ours) answered for it: the request may
		// have reached the API and been carried out behind that answer.
		return true
	}
	return t.status/100 == 2
}

func (t *sendTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.ctx.Err(); err != nil {
		return nil, context.Cause(t.ctx)
	}
	// twilio-go's request has context.Background(): the call's context takes its place.
	ctx := t.ctx
	if t.watchSent {
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteHeaders: func() { t.sent.Store(true) }})
	}
	out := req.WithContext(ctx)
	if t.apiBase != nil {
		u := *req.URL
		u.Scheme = t.apiBase.Scheme
		u.Host = t.apiBase.Host
		u.Path = strings.TrimSuffix(t.apiBase.Path, "/") + req.URL.Path
		u.RawPath = ""
		out.URL = &u
		out.Host = ""
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		if t.ctx.Err() != nil {
			return nil, context.Cause(t.ctx)
		}
		return nil, err
	}
	body, err := readAnswer(resp)
	closeErr := resp.Body.Close()
	t.status = resp.StatusCode
	if err == nil {
		err = closeErr
	}
	if err != nil {
		if t.ctx.Err() != nil {
			return nil, context.Cause(t.ctx)
		}
		return nil, fmt.Errorf("reading Twilio's answer (HTTP %d): %w", resp.StatusCode, err)
	}
	if len(body) > sendMaxResponseBytes {
		return nil, fmt.Errorf("twilio answer over %d bytes (HTTP %d)", sendMaxResponseBytes, resp.StatusCode)
	}
	t.body = body
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// readAnswer reads an answer of at most sendMaxResponseBytes+1 bytes, in one allocation when
// its length is announced (io.ReadAll grows from 512 bytes, a fifth of its cost here).
func readAnswer(resp *http.Response) ([]byte, error) {
	limited := io.LimitReader(resp.Body, sendMaxResponseBytes+1)
	if n := resp.ContentLength; n > 0 && n <= sendMaxResponseBytes {
		buf := bytes.NewBuffer(make([]byte, 0, n+1)) // +1: ReadFrom stops at EOF without growing
		_, err := buf.ReadFrom(limited)
		return buf.Bytes(), err
	}
	return io.ReadAll(limited)
}
