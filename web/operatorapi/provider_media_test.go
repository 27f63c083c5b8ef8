package operatorapi

import (
	"net/http"
	"strings"
	"testing"
)

func TestProviderMediaAllowed(t *testing.T) {
	m := NewTwilioMedia("http://127.0.0.1:8099", "AC1", "tok")
	for raw, want := range map[string]bool{
		"https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1": true,
		"HTTPS://API.TWILIO.COM/2010-04-01/Accounts/AC1/Recordings/RE1":         true,
		"http://127.0.0.1:8099/media/1":                                         true,
		"http://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1":  false,
		"https://api.twilio.com.evil.example/x":                                 false,
		"https://evil.example/?https://api.twilio.com/":                         false,
		"https://user:pw@api.twilio.com/x":                                      false,
		"https://api.twilio.com:8443/x":                                         false,
		"http://127.0.0.1:8098/media/1":                                         false,
		"javascript:alert(1)":                                                   false,
		"javascript://api.twilio.com/%0aalert(1)":                               false,
		"file:///etc/passwd":                                                    false,
		"data:text/html,hi":                                                     false,
		"//api.twilio.com/x":                                                    false,
		"/api/v1/contacts":                                                      false,
		"":                                                                      false,
	} {
		if got := m.Allowed(raw); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", raw, got, want)
		}
	}
}

// FuzzProviderMediaAllowed: whatever the stored URL, an allowed one is https on Twilio's API
// host or exactly the configured origin.
func FuzzProviderMediaAllowed(f *testing.F) {
	for _, s := range []string{"https://api.twilio.com/x", "javascript:alert(1)", "https://api.twilio.com@evil/x",
		"http://127.0.0.1:8099/a", "HTTPS://api.twilio.com./x", "https://api.twilio.com\\@evil/"} {
		f.Add(s)
	}
	m := NewTwilioMedia("http://127.0.0.1:8099", "AC1", "tok")
	origins := []string{TwilioAPIOrigin, "http://127.0.0.1:8099"}
	// Two oracles independent of Allowed's own parsing: the text itself must begin with an
	// allowed origin and then end or go on with a path, query or fragment (so no userinfo,
	// backslash or port trick can hide another host), and the request the client would send
	// must go to that origin's host.
	f.Fuzz(func(t *testing.T, raw string) {
		if !m.Allowed(raw) {
			return
		}
		lower := strings.ToLower(raw)
		var origin string
		for _, o := range origins {
			if rest, ok := strings.CutPrefix(lower, o); ok && (rest == "" || strings.ContainsRune("/?#", rune(rest[0]))) {
				origin = o
			}
		}
		if origin == "" {
			t.Fatalf("allowed %q, which does not begin with an allowed origin", raw)
		}
		req, err := http.NewRequest(http.MethodGet, raw, nil)
		if err != nil {
			t.Fatalf("allowed %q, which no request can be made of: %v", raw, err)
		}
		if got := strings.ToLower(req.URL.Scheme + "://" + req.URL.Host); got != origin {
			t.Fatalf("allowed %q: the request would go to %q, not %q", raw, got, origin)
		}
	})
}

func TestRedirectsNeverReachInternalHosts(t *testing.T) {
	for host, internal := range map[string]bool{
		"127.0.0.1": true, "localhost": true, "10.1.2.3": true, "192.168.0.10": true, "169.254.169.254": true,
		"::1": true, "metadata": true, "api.localhost": true,
		"media.twiliocdn.com": false, "s3-external-1.amazonaws.com": false, "8.8.8.8": false,
	} {
		if got := internalHost(host); got != internal {
			t.Errorf("internalHost(%q) = %v, want %v", host, got, internal)
		}
	}
	m := NewTwilioMedia("", "AC1", "tok")
	req, _ := http.NewRequest("GET", "https://169.254.169.254/latest/meta-data", nil)
	if err := m.Client.CheckRedirect(req, []*http.Request{{}}); err == nil {
		t.Fatal("a redirect to the metadata address was followed")
	}
	req, _ = http.NewRequest("GET", "https://media.twiliocdn.com/AC1/abc", nil)
	if err := m.Client.CheckRedirect(req, []*http.Request{{}}); err != nil {
		t.Fatalf("a redirect to the CDN was refused: %v", err)
	}
}
