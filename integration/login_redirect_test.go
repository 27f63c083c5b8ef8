package integration

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/sportello/sportello/integration/harness"
)

// TestLoginRedirectStaysOnSite logs in through the gateway's real HTTP stack with next values
// that browsers read as another host ("/\t/evil" becomes "//evil"): the redirect must stay on
// our own paths. A plain path of ours is kept.
func TestLoginRedirectStaysOnSite(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	const password = "una-password-lunga"
	storeUser(t, g, "maria", password, "operator")
	for _, tc := range []struct{ next, want string }{
		{"/\t/evil.example", "/inbox"},
		{"/%09/evil.example", "/inbox"},
		{"/\n/evil.example", "/inbox"},
		{"/\\evil.example", "/inbox"},
		{"/%5C/evil.example", "/inbox"},
		{"/%2F%2Fevil.example", "/inbox"},
		{"//evil.example", "/inbox"},
		{"https://evil.example/", "/inbox"},
		{"/inbox?queue=multe", "/inbox?queue=multe"},
	} {
		c := webClient(t, "")
		csrf := loginForm(t, c, g.URL)
		code, loc, err := postLogin(c, g.URL, csrf, "maria", password, tc.next)
		if err != nil {
			t.Fatal(err)
		}
		if code != http.StatusSeeOther || loc != tc.want {
			t.Errorf("next=%q: %d to %q, want 303 to %q", tc.next, code, loc, tc.want)
		}
		// The same through the form's GET for a signed-in user (/login?next=...).
		resp, err := c.Get(g.URL + "/login?next=" + url.QueryEscape(tc.next))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != tc.want {
			t.Errorf("GET /login?next=%q: %d to %q, want 303 to %q", tc.next, resp.StatusCode, loc, tc.want)
		}
	}
}
