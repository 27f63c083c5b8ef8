package pages

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/templates"
)

// Every text a template or handler asks for exists in both languages.
func TestTextsComplete(t *testing.T) {
	it, en := messages["it"], messages["en"]
	for k := range it {
		if en[k] == "" {
			t.Errorf("english lacks %q", k)
		}
	}
	for k := range en {
		if it[k] == "" {
			t.Errorf("italian lacks %q", k)
		}
	}
	used := regexp.MustCompile(`(?:\.T|\$t)\.([a-z0-9_]+)`)
	err := fs.WalkDir(templates.HTMLFS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templates.HTMLFS(), path)
		if err != nil {
			return err
		}
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			if it[m[1]] == "" {
				t.Errorf("%s uses the missing text %q", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"channel_sms", "channel_email", "channel_fax", "channel_phone", "status_open", "status_assigned",
		"status_resolved", "outcome_first_level", "outcome_transferred_phone", "outcome_forwarded_email", "presence_available",
		"presence_away", "presence_offline", "role_operator", "role_supervisor", "role_admin"} {
		if it[prefix] == "" {
			t.Errorf("missing %q", prefix)
		}
	}
}

func TestAcceptLanguage(t *testing.T) {
	for h, want := range map[string]string{
		"":                        "it",
		"en-US,en;q=0.9":          "en",
		"it-IT,it;q=0.9,en;q=0.8": "it",
		"en;q=0.5, it;q=0.6":      "it",
		"de-DE, en-GB;q=0.7":      "en",
		"fr":                      "it",
		"EN":                      "en",
		"en;q=abc":                "en",
		",,;;q=":                  "it",
	} {
		if got := fromAcceptLanguage(h); got != want {
			t.Errorf("Accept-Language %q = %s, want %s", h, got, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "/inbox",
		"/inbox/contacts/1":       "/inbox/contacts/1",
		"/inbox?queue=multe":      "/inbox?queue=multe",
		"//evil.example/x":        "/inbox",
		"/\\evil.example":         "/inbox",
		"https://evil.example":    "/inbox",
		"javascript:alert(1)":     "/inbox",
		"/login?next=/login":      "/inbox",
		"/inbox\r\nSet-Cookie: x": "/inbox",
		"/\t/evil.example":        "/inbox",
		"/%09/evil.example":       "/inbox",
		"/%2F%2Fevil.example":     "/inbox",
		"/%5Cevil.example":        "/inbox",
		"/\u00a0/evil":            "/inbox",
		"/inbox/contacts/%2F":     "/inbox/contacts/%2F",
	} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTemplatesParse(t *testing.T) {
	p, err := New(Options{Store: nil})
	if err == nil || p != nil {
		t.Fatal("pages without a store were built")
	}
	if _, err := templates.ParseHTML((&Pages{o: Options{Location: time.UTC}}).funcs()); err != nil {
		t.Fatalf("templates: %v", err)
	}
	if !strings.Contains(ContentSecurityPolicy, "script-src 'self'") || strings.Contains(ContentSecurityPolicy, "unsafe") {
		t.Fatal("CSP allows inline code")
	}
}

// ?done= is anyone's to write in a link: only an action's own notice is shown, never the
// link's text in the page's notice banner.
func TestDoneNoticeShowsOnlyKnownActions(t *testing.T) {
	e := echo.New()
	for query, want := range map[string]string{
		"done=replied": "Risposta inviata.",
		"done=Chiami%20subito%20il%20899123456%20per%20sbloccare%20il%20conto": "",
		"": "",
	} {
		c := e.NewContext(httptest.NewRequest(http.MethodGet, "/inbox/contacts/x?"+query, nil), httptest.NewRecorder())
		if got := DoneNotice(c); got != want {
			t.Errorf("%q: notice %q, want %q", query, got, want)
		}
	}
}
