package appio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sportello/sportello/channels"
)

// Options configure a Client. Zero values get the defaults noted.
type Options struct {
	// BaseURL is App IO's root (https://api.io.pagopa.it, or an emulator). Required.
	BaseURL string
	// Keys are the comuni's service keys, by comune id; a comune without one sends nothing.
	Keys map[string]string
	// Timeout bounds one request (10s).
	Timeout time.Duration
	// MaxRetryAfter is the longest Retry-After a call waits out (30s); 0 after defaults means
	// "never wait": the first 429 goes back to the caller.
	MaxRetryAfter time.Duration
	// MaxThrottled is how many 429s in a row one call waits out before giving up (5).
	MaxThrottled int
	// Transport carries the requests (a clone of http.DefaultTransport).
	Transport http.RoundTripper
	Logger    *slog.Logger
}

// Client talks to App IO. It is safe for concurrent use.
type Client struct {
	o    Options
	base *url.URL
	http *http.Client
}

// maxResponseBytes bounds what is read of one answer; App IO's are a few hundred bytes.
const maxResponseBytes = 1 << 20

// New checks the options and builds a client.
func New(o Options) (*Client, error) {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxRetryAfter < 0 {
		o.MaxRetryAfter = 0
	}
	if o.MaxThrottled <= 0 {
		o.MaxThrottled = 5
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	u, err := url.Parse(strings.TrimRight(o.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("appio: base URL %q is not an http(s) URL", o.BaseURL)
	}
	return &Client{o: o, base: u, http: &http.Client{Transport: o.Transport, Timeout: o.Timeout,
		// App IO answers directly; a redirect means something else answered.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
}

// Enabled reports whether the comune has a service key.
func (c *Client) Enabled(comune string) bool { return c.o.Keys[comune] != "" }

// Allowed asks for the citizen's profile: sender_allowed says whether it accepts the comune's
// service; 404 is no profile (false).
func (c *Client) Allowed(ctx context.Context, comune, fiscalCode string) (bool, error) {
	var out struct {
		SenderAllowed bool `json:"sender_allowed"`
	}
	status, err := c.call(ctx, comune, http.MethodPost, "/api/v1/profiles", map[string]string{"fiscal_code": fiscalCode}, &out, http.StatusNotFound)
	if err != nil {
		return false, err
	}
	return status == http.StatusOK && out.SenderAllowed, nil
}

// SendIO hands a message over; App IO answers 201 with its id. The subject and markdown must
// already be within App IO's bounds (channels.FitAppIO): out of them the call is refused here,
// permanently, without asking App IO.
func (c *Client) SendIO(ctx context.Context, m channels.AppIOMessage) (string, error) {
	if n := utf8.RuneCountInString(m.Subject); n < channels.AppIOSubjectMin || n > channels.AppIOSubjectMax {
		return "", &channels.SendError{Code: http.StatusBadRequest, Permanent: true,
			Message: fmt.Sprintf("App IO subject of %d characters (%d-%d)", n, channels.AppIOSubjectMin, channels.AppIOSubjectMax)}
	}
	if n := utf8.RuneCountInString(m.Markdown); n < channels.AppIOMarkdownMin || n > channels.AppIOMarkdownMax {
		return "", &channels.SendError{Code: http.StatusBadRequest, Permanent: true,
			Message: fmt.Sprintf("App IO markdown of %d characters (%d-%d)", n, channels.AppIOMarkdownMin, channels.AppIOMarkdownMax)}
	}
	body := map[string]any{"fiscal_code": m.FiscalCode, "content": map[string]string{"subject": m.Subject, "markdown": m.Markdown}}
	var out struct {
		ID string `json:"id"`
	}
	if _, err := c.call(ctx, m.Comune, http.MethodPost, "/api/v1/messages", body, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		// Accepted (201) without an id: it may go out, and we cannot follow it.
		return "", &channels.SendError{Message: "App IO accepted the message without an id"}
	}
	return out.ID, nil
}

// IOStatus reads a message's state.
func (c *Client) IOStatus(ctx context.Context, comune, fiscalCode, id string) (string, error) {
	var out struct {
		Status string `json:"status"`
	}
	_, err := c.call(ctx, comune, http.MethodGet, "/api/v1/messages/"+url.PathEscape(fiscalCode)+"/"+url.PathEscape(id), nil, &out)
	return out.Status, err
}

// Send is channels.Sender for operator replies: To is the fiscal code, From the comune whose
// service sends, Subject and Body (plain text, escaped here) the message, fitted to App IO's
// bounds. The profile is asked
// first: a citizen whose profile refuses the service is a permanent refusal.
func (c *Client) Send(ctx context.Context, out channels.OutboundMessage) (channels.SendResult, error) {
	if out.Channel != channels.AppIO {
		return channels.SendResult{}, &channels.SendError{Permanent: true, Message: "the App IO sender got a " + string(out.Channel) + " message"}
	}
	ok, err := c.Allowed(ctx, out.From, out.To)
	if err != nil {
		return channels.SendResult{}, err
	}
	if !ok {
		return channels.SendResult{}, &channels.SendError{Permanent: true, Code: http.StatusForbidden,
			Message: "the citizen's App IO profile does not accept this comune's messages (or there is none)"}
	}
	subject, markdown := channels.FitAppIO(out.Subject, channels.EscapeMarkdown(out.Body), "")
	id, err := c.SendIO(ctx, channels.AppIOMessage{Comune: out.From, FiscalCode: out.To, Subject: subject, Markdown: markdown})
	var se *channels.SendError
	if errors.As(err, &se) && se.Code == 0 && !se.Permanent && !neverSent(err) {
		// App IO may hold the message without having said so, and cannot be asked about one
		// it gave no id for: trying again could deliver it twice.
		return channels.SendResult{}, &channels.SendError{Permanent: true, Err: err,
			Message: "App IO did not answer; unknown whether it got the message, so it was not sent again: " + se.Message}
	}
	if err != nil {
		return channels.SendResult{}, err
	}
	return channels.SendResult{ExternalID: id, Status: "sent"}, nil
}

// call sends one request, waiting out 429s, and decodes a 2xx answer (or one of okAlso) into
// out. It returns the answer's status.
func (c *Client) call(ctx context.Context, comune, method, path string, body, out any, okAlso ...int) (int, error) {
	key := c.o.Keys[comune]
	if key == "" {
		return 0, &channels.SendError{Permanent: true, Message: fmt.Sprintf("comune %q has no App IO service key", comune)}
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return 0, err
		}
	}
	for throttled := 0; ; throttled++ {
		status, retryAfter, data, err := c.once(ctx, key, method, path, payload)
		if err != nil {
			return 0, err
		}
		if status == http.StatusTooManyRequests {
			wait := retryAfter
			if wait <= 0 {
				wait = time.Second << min(throttled, 4)
			}
			if throttled+1 >= c.o.MaxThrottled || wait > c.o.MaxRetryAfter {
				return status, &channels.SendError{Code: status, Message: fmt.Sprintf("App IO is throttling (Retry-After %v)", retryAfter)}
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				// Nothing was accepted: the refusal is certain.
				return status, &channels.SendError{Code: status, Message: "App IO is throttling", Err: ctx.Err()}
			case <-t.C:
			}
			continue
		}
		if status/100 == 2 || contains(okAlso, status) {
			if out != nil && status/100 == 2 && len(bytes.TrimSpace(data)) > 0 {
				if err := json.Unmarshal(data, out); err != nil {
					return status, &channels.SendError{Message: "App IO answered something that is not its JSON", Err: err}
				}
			}
			return status, nil
		}
		return status, &channels.SendError{Code: status, Permanent: status/100 == 4, Message: "App IO refused: " + problem(status, data)}
	}
}

// once makes one request. A failure before an answer is a *SendError wrapping the cause (a dial
// error means nothing was sent).
func (c *Client) once(ctx context.Context, key, method, path string, payload []byte) (status int, retryAfter time.Duration, data []byte, err error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, rd)
	if err != nil {
		return 0, 0, nil, err
	}
	req.Header.Set("Ocp-Apim-Subscription-Key", key)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, 0, nil, &channels.SendError{Message: "App IO did not answer: " + err.Error(), Err: err}
	}
	defer resp.Body.Close()
	data, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return 0, 0, nil, &channels.SendError{Message: "reading App IO's answer: " + err.Error(), Err: err}
	}
	return resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), data, nil
}

// neverSent recognizes a request that could not have been written: the connection was never
// made (refused, unreachable, unknown host).
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// parseRetryAfter reads seconds or an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// problem summarizes an error answer: App IO sends application/problem+json (title, detail).
func problem(status int, data []byte) string {
	var p struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(data, &p); err == nil && (p.Title != "" || p.Detail != "") {
		return strings.TrimSpace(fmt.Sprintf("%d %s: %s", status, p.Title, p.Detail))
	}
	s := strings.TrimSpace(string(data))
	if len(s) > 200 {
		s = s[:200]
	}
	return strconv.Itoa(status) + " " + s
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
