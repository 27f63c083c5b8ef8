package twilioemu

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"slices"
	"sort"
)

// Signer computes X-Twilio-Signature the way Twilio does, for the account whose auth token it
// holds. AccountSID fills the AccountSid field of the webhooks it posts.
type Signer struct {
	AccountSID string
	AuthToken  string
}

// Sign returns base64(HMAC-SHA1(AuthToken, fullURL + every POST parameter sorted by name, each
// written as name+value)). fullURL is the URL exactly as configured at Twilio, query included.
// A repeated parameter contributes each of its distinct values in sorted order, as Twilio's own
// libraries do; for GET webhooks pass nil params (the query is already in the URL).
func (s Signer) Sign(fullURL string, params url.Values) string {
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	mac := hmac.New(sha1.New, []byte(s.AuthToken))
	mac.Write([]byte(fullURL))
	for _, name := range names {
		values := slices.Clone(params[name])
		sort.Strings(values)
		values = slices.Compact(values)
		for _, v := range values {
			mac.Write([]byte(name))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Valid reports whether signature is what Sign gives for fullURL and params.
func (s Signer) Valid(fullURL string, params url.Values, signature string) bool {
	return hmac.Equal([]byte(s.Sign(fullURL, params)), []byte(signature))
}

// NewSid returns a Twilio-style sid: the prefix (SM, MM, CA, AC, MG, RE, ...) and 32 lower-case
// hex digits.
func NewSid(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it panics on a broken system)
	return prefix + hex.EncodeToString(b[:])
}
