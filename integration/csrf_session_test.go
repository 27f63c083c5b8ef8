package integration

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/web/auth"
)

// TestCSRFTokenIsTiedToTheSession attacks the inbox's forms through the real HTTP stack. The
// CSRF check used to be a bare double submit: whoever could plant a sportello_csrf cookie in the
// operator's browser (a sibling subdomain can) and repeat its value in a cross-site form passed
// it. Now the token is the session's own: a planted value, or another session's token, is 403
// and nothing is done; the page's token works.
func TestCSRFTokenIsTiedToTheSession(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	const password = "una-password-lunga"
	storeUser(t, g, "anna", password, "operator", "firenze")
	login := func() (*http.Client, string, string) {
		c := webClient(t, "")
		anonymous := loginForm(t, c, g.URL)
		if code, _, err := postLogin(c, g.URL, anonymous, "anna", password, ""); err != nil || code != http.StatusSeeOther {
			t.Fatalf("login: %d %v", code, err)
		}
		resp, err := c.Get(g.URL + "/inbox")
		if err != nil {
			t.Fatal(err)
		}
		m := csrfField.FindStringSubmatch(readAll(t, resp))
		if m == nil {
			t.Fatal("no CSRF token on the inbox page")
		}
		if m[1] == anonymous {
			t.Fatal("the token did not change at login")
		}
		base, _ := url.Parse(g.URL)
		for _, ck := range c.Jar.Cookies(base) {
			if ck.Name == auth.SessionCookie {
				return c, ck.Value, m[1]
			}
		}
		t.Fatal("no session cookie after login")
		return nil, "", ""
	}
	_, session, token := login()
	_, _, otherToken := login()
	post := func(csrfCookie, csrfField string) int {
		req, err := http.NewRequest("POST", g.URL+"/inbox/presence", strings.NewReader(url.Values{"status": {"away"}, "csrf": {csrfField}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: session})
		if csrfCookie != "" {
			req.AddCookie(&http.Cookie{Name: auth.CSRFCookie, Value: csrfCookie})
		}
		resp, err := webClient(t, "").Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	planted := strings.Repeat("a", 43)
	if code := post(planted, planted); code != http.StatusForbidden {
		t.Errorf("a planted CSRF cookie repeated in the form: %d, want 403", code)
	}
	if code := post("", otherToken); code != http.StatusForbidden {
		t.Errorf("another session's token: %d, want 403", code)
	}
	if code := post("", token); code != http.StatusSeeOther {
		t.Errorf("the session's own token: %d, want 303", code)
	}
}
