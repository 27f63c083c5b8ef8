package integration

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sportello/sportello/integration/harness"
)

// TestAttachmentURLsAreNeverRedirects stores, through a signed MMS webhook, media URLs of every
// kind an attacker would like the operator's browser to open, and reads each through the
// operator API: only the provider's own URL is served (fetched by the gateway, with the
// provider's credentials and download-only headers); the rest are refused without a redirect
// and without a request to their host.
func TestAttachmentURLsAreNeverRedirects(t *testing.T) {
	var providerHits, strangerHits atomic.Int64
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		providerHits.Add(1)
		if u, p, ok := r.BasicAuth(); !ok || u != harness.AccountSID || p != harness.AuthToken {
			http.Error(w, "auth", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<script>alert(1)</script>picture bytes")
	}))
	defer provider.Close()
	stranger := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		strangerHits.Add(1)
		_, _ = io.WriteString(w, "phishing")
	}))
	defer stranger.Close()

	// The provider's API base is the fake media host (as twilio.api_base_url points tests at
	// an emulator); outbound SMS are not part of this test.
	yaml := strings.Replace(harness.BaseYAML, harness.TwilioAPIPlaceholder, provider.URL, 1)
	gw := harness.Start(t, harness.Options{Replace: yaml})
	token := gw.User(t, "admin-att", "admin")

	urls := map[string]string{
		"media-0": "javascript:alert(document.cookie)",
		"media-1": "file:///etc/passwd",
		"media-2": "https://evil.example/login.html",
		"media-3": stranger.URL + "/2010-04-01/Accounts/" + harness.AccountSID + "/Messages/MM1/Media/ME1",
		"media-4": "data:text/html,<script>alert(1)</script>",
		"media-5": provider.URL + "/2010-04-01/Accounts/" + harness.AccountSID + "/Messages/MM1/Media/ME2",
	}
	form := harness.SMSForm("MM00000000000000000000000000000001", "+393471112233", "+390552768000", "foto")
	form.Set("NumMedia", "6")
	for i := 0; i < 6; i++ {
		name := "media-" + string(rune('0'+i))
		form.Set("MediaUrl"+string(rune('0'+i)), urls[name])
		form.Set("MediaContentType"+string(rune('0'+i)), "image/jpeg")
	}
	if resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", form); resp.StatusCode != 200 {
		t.Fatalf("mms webhook: %d %s", resp.StatusCode, body)
	}
	var list struct {
		Items []struct {
			ID          string `json:"id"`
			Attachments []struct {
				ID       string `json:"id"`
				Filename string `json:"filename"`
			} `json:"attachments"`
		} `json:"items"`
	}
	if st := harness.API(t, "GET", gw.URL+"/api/v1/contacts?channel=sms", token, nil, &list); st != 200 || len(list.Items) != 1 {
		t.Fatalf("contacts: %d %+v", st, list)
	}
	c := list.Items[0]
	if len(c.Attachments) != 6 {
		t.Fatalf("want 6 attachments, got %+v", c.Attachments)
	}
	noRedirects := &http.Client{Timeout: harness.Client.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, a := range c.Attachments {
		req, _ := http.NewRequest("GET", gw.URL+"/api/v1/contacts/"+c.ID+"/attachments/"+a.ID, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != "" {
			t.Errorf("%s (%s): redirected to %q", a.Filename, urls[a.Filename], loc)
		}
		if a.Filename != "media-5" {
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s (%s): %d %s, want 404", a.Filename, urls[a.Filename], resp.StatusCode, body)
			}
			continue
		}
		if resp.StatusCode != 200 || string(body) != "<script>alert(1)</script>picture bytes" {
			t.Errorf("provider media: %d %q", resp.StatusCode, body)
		}
		h := resp.Header
		if h.Get("Content-Type") != "image/jpeg" || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.HasPrefix(h.Get("Content-Disposition"), "attachment") || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("provider media served with unsafe headers: %v", h)
		}
	}
	if n := providerHits.Load(); n != 1 {
		t.Errorf("provider fetched %d times, want 1", n)
	}
	if n := strangerHits.Load(); n != 0 {
		t.Errorf("a stranger's host was fetched %d times", n)
	}
}
