package twilio

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// twilio-go v1.31.0 takes no context.Context: its only deadline is its http.Client's Timeout, and
// it builds every request on context.Background(). So each Send builds a small twilio-go client
// whose transport (sendTransport) carries that call's context: cancelling the context aborts the
// request. The same transport sends requests meant for api.twilio.com to APIBaseURL when one is
// configured (tests point it at integration/twilioemu), reads each answer whole so that twilio-go,
// which does not close error bodies, cannot leak connections, and remembers the HTTP status for
// the error mapping when an error body is not Twilio JSON.

// sendMaxResponseBytes bounds what is read of one answer; a Message resource is about 1 KiB.
const sendMaxResponseBytes = 1 << 20

// sendRestClient holds what every call shares: credentials, the base transport, the timeout.
type sendRestClient struct {
	accountSID string
	authToken  string
	apiBase    *url.URL // nil: the real api.twilio.com
	transport  http.RoundTripper
	timeout    time.Duration
}

// api returns a twilio-go Messages API bound to ctx; rt records the call's HTTP status.
func (c *sendRestClient) api(ctx context.Context, rt *sendTransport) *twapi.ApiService {
	*rt = sendTransport{ctx: ctx, base: c.transport, apiBase: c.apiBase}
	tc := &twclient.Client{
		Credentials: twclient.NewCredentials(c.accountSID, c.authToken),
		HTTPClient: &http.Client{
			Transport: rt,
			Timeout:   c.timeout,
			// Twilio answers the create call directly; a redirect means something else answered.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	tc.SetAccountSid(c.accountSID)
	return twapi.NewApiServiceWithClient(tc)
}

// sendTransport is the per-call transport described above.
type sendTransport struct {
	ctx     context.Context
	base    http.RoundTripper
	apiBase *url.URL
	status  int // HTTP status of the last answer, 0 if none arrived
}

func (t *sendTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.ctx.Err(); err != nil {
		return nil, context.Cause(t.ctx)
	}
	// Both the http.Client's timeout (in req's context) and the caller's context end the request.
	ctx, cancel := context.WithCancelCause(req.Context())
	defer cancel(nil)
	stop := context.AfterFunc(t.ctx, func() { cancel(context.Cause(t.ctx)) })
	defer stop()

	out := req.Clone(ctx)
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
	body, err := io.ReadAll(io.LimitReader(resp.Body, sendMaxResponseBytes+1))
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
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}
