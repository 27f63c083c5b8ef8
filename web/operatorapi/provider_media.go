package operatorapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// TwilioAPIOrigin is where Twilio keeps MMS media and call recordings.
const TwilioAPIOrigin = "https://api.twilio.com"

// ProviderMedia fetches media the provider keeps (MMS pictures, call recordings), which the
// store has only as a URL, so that the gateway serves the bytes itself.
//
// The gateway proxies rather than redirecting the operator's browser: a stored URL came from a
// webhook, and a redirect to it would send the browser wherever that URL says (file:,
// javascript:, a phishing page) from our origin. Proxied, the bytes get the same download-only
// headers as a stored file, Twilio's "HTTP auth on media" works (the gateway holds the
// credentials, the browser never sees them) and the provider never learns the operator's
// address. Only https URLs of the provider's own origin are fetched: anything else is refused
// without a request.
type ProviderMedia struct {
	// Origins are scheme://host[:port] the gateway may fetch from.
	Origins []string
	// AccountSID and AuthToken authenticate to the provider (HTTP basic).
	AccountSID, AuthToken string
	// Client fetches; it must have a timeout.
	Client *http.Client
	// MaxBytes bounds one download.
	MaxBytes int64
}

// ErrMediaNotAllowed is returned for a URL outside the provider's origins.
var ErrMediaNotAllowed = errors.New("media URL is not the provider's")

// NewTwilioMedia fetches from api.twilio.com over https and, when the configured API base URL
// points elsewhere (an emulator in tests, a regional edge), from that origin as the operator
// configured it.
func NewTwilioMedia(apiBaseURL, accountSID, authToken string) *ProviderMedia {
	m := &ProviderMedia{Origins: []string{TwilioAPIOrigin}, AccountSID: accountSID, AuthToken: authToken, MaxBytes: 64 << 20}
	if u, err := url.Parse(apiBaseURL); err == nil && u.Host != "" && (u.Scheme == "https" || u.Scheme == "http") {
		m.Origins = append(m.Origins, u.Scheme+"://"+strings.ToLower(u.Host))
	}
	m.Client = &http.Client{Timeout: 60 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		// Twilio answers a media URL with a redirect to its CDN's signed https URL: follow that
		// (Go drops the credentials when the host changes), nothing that leaves https.
		if len(via) >= 3 {
			return errors.New("too many redirects")
		}
		if m.Allowed(req.URL.String()) {
			return nil
		}
		if req.URL.Scheme != "https" {
			return fmt.Errorf("redirect to %s refused: not https", req.URL.Scheme)
		}
		if internalHost(req.URL.Hostname()) {
			return fmt.Errorf("redirect to %s refused: not a public host", req.URL.Hostname())
		}
		return nil
	}}
	return m
}

// internalHost reports a host the gateway must never fetch for a browser: a redirect from the
// provider's origin goes to a public CDN, never to this machine or a private network.
func internalHost(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") || !strings.Contains(h, ".") && net.ParseIP(h) == nil {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast())
}

// Allowed reports whether raw is a URL of one of the provider's origins.
func (m *ProviderMedia) Allowed(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Host == "" || u.Opaque != "" {
		return false
	}
	origin := strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
	for _, o := range m.Origins {
		if origin == o {
			return true
		}
	}
	return false
}

// MediaResponse is a fetched medium; the caller closes Body.
type MediaResponse struct {
	ContentType string
	Body        io.ReadCloser
}

// Fetch downloads raw, which must be Allowed.
func (m *ProviderMedia) Fetch(ctx context.Context, raw string) (*MediaResponse, error) {
	if !m.Allowed(raw) {
		return nil, ErrMediaNotAllowed
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	if m.AccountSID != "" {
		req.SetBasicAuth(m.AccountSID, m.AuthToken)
	}
	resp, err := m.Client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("provider media: %s", resp.Status)
	}
	if resp.ContentLength > m.MaxBytes {
		resp.Body.Close()
		return nil, fmt.Errorf("provider media: %d bytes, over the %d limit", resp.ContentLength, m.MaxBytes)
	}
	return &MediaResponse{ContentType: resp.Header.Get("Content-Type"),
		Body: struct {
			io.Reader
			io.Closer
		}{io.LimitReader(resp.Body, m.MaxBytes), resp.Body}}, nil
}
