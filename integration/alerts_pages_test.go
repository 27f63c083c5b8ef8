package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

var alertCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// alertPageClient signs a user in to the web pages and returns the client and a CSRF token.
func alertPageClient(t *testing.T, gw *harness.Gateway, username, role string, comuni ...string) (*http.Client, string) {
	t.Helper()
	gw.User(t, username, role, comuni...)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, body := alertPage(t, c, "GET", gw.URL+"/login", nil, "")
	m := alertCSRF.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on /login: %s", body)
	}
	resp, body := alertPage(t, c, "POST", gw.URL+"/login", url.Values{"csrf": {m[1]}, "username": {username}, "password": {"password-" + username}}, "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	// The CSRF token is the session's: the login form's is stale once signed in.
	_, body = alertPage(t, c, "GET", gw.URL+"/inbox", nil, "")
	if m = alertCSRF.FindStringSubmatch(body); m == nil {
		t.Fatalf("no CSRF token on /inbox: %s", body)
	}
	return c, m[1]
}

func alertPage(t *testing.T, c *http.Client, method, u string, form url.Values, csrfHeader string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if csrfHeader != "" {
		req.Header.Set("X-CSRF-Token", csrfHeader)
		req.Header.Set("Accept", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestAlertPagesComposeSendFollow(t *testing.T) {
	gw := alertsGateway(t, store.SQLite, 200, 100)
	alertSubscribers(t, gw, "firenze", "+39347", 40)
	sup, csrf := alertPageClient(t, gw, "sup", store.RoleSupervisor)

	// Anonymous visitors go to the login; operators are refused.
	anon := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, _ := alertPage(t, anon, "GET", gw.URL+"/supervisor/alerts", nil, ""); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	op, _ := alertPageClient(t, gw, "op", store.RoleOperator)
	if resp, _ := alertPage(t, op, "GET", gw.URL+"/supervisor/alerts", nil, ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("operator: %d", resp.StatusCode)
	}

	resp, page := alertPage(t, sup, "GET", gw.URL+"/supervisor/alerts", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(page, `id="alert-form"`) || !strings.Contains(page, "/static/alerts.js") {
		t.Fatalf("alerts page: %d", resp.StatusCode)
	}
	// The subscriber count per comune and topic: 40 confirmed in Firenze, following everything.
	if !regexp.MustCompile(`data-comune="firenze" data-topic="traffico"><th scope="row">Comune di Firenze</th><td>traffico</td><td class="num">40</td>`).MatchString(page) {
		t.Fatalf("subscriber counts missing:\n%s", page)
	}

	// The live preview: the text through the template, its cost, the audience.
	form := url.Values{"comune": {"firenze"}, "category": {"blocco-traffico"}, "message": {"È in vigore il blocco"}, "topics": {"firenze/traffico"}}
	resp, body := alertPage(t, sup, "POST", gw.URL+"/supervisor/alerts/preview", form, csrf)
	var pv struct {
		Text       string `json:"text"`
		Recipients int    `json:"recipients"`
		Cost       struct {
			Encoding string `json:"encoding"`
			Segments int    `json:"segments"`
		} `json:"cost"`
	}
	if err := json.Unmarshal([]byte(body), &pv); err != nil || resp.StatusCode != 200 || pv.Text != "È in vigore il blocco" || pv.Cost.Encoding != "UCS-2" || pv.Recipients != 40 {
		t.Fatalf("preview: %d %s", resp.StatusCode, body)
	}
	form.Set("gsm7_safe", "1")
	_, body = alertPage(t, sup, "POST", gw.URL+"/supervisor/alerts/preview", form, csrf)
	if !strings.Contains(body, `"text":"E' in vigore il blocco"`) || !strings.Contains(body, `"encoding":"GSM-7"`) {
		t.Fatalf("GSM-7 preview: %s", body)
	}
	resp, body = alertPage(t, sup, "POST", gw.URL+"/supervisor/alerts/preview", url.Values{"comune": {"firenze"}, "category": {"blocco-traffico"}, "message": {""}}, csrf)
	if resp.StatusCode != 400 || !strings.Contains(body, "empty_message") {
		t.Fatalf("empty preview: %d %s", resp.StatusCode, body)
	}

	// Without the CSRF token nothing is sent.
	if resp, _ := alertPage(t, sup, "POST", gw.URL+"/supervisor/alerts", form, ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("no CSRF: %d", resp.StatusCode)
	}
	// A refused form comes back with the error and what was typed.
	bad := url.Values{"csrf": {csrf}, "comune": {"firenze"}, "category": {"blocco-traffico"}, "message": {"ciao"}, "send_at": {"2001-01-01T10:00"}}
	resp, body = alertPage(t, sup, "POST", gw.URL+"/supervisor/alerts", bad, "")
	if resp.StatusCode != 400 || !strings.Contains(body, "send_at") || !strings.Contains(body, ">ciao</textarea>") {
		t.Fatalf("refused form: %d", resp.StatusCode)
	}
	if gw.Twilio.Count() != 0 {
		t.Fatal("a refused form sent something")
	}

	form.Set("csrf", csrf)
	resp, _ = alertPage(t, sup, "POST", gw.URL+"/supervisor/alerts", form, "")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "?created=40") {
		t.Fatalf("send: %d %s", resp.StatusCode, loc)
	}
	detail := strings.Split(loc, "?")[0]
	resp, page = alertPage(t, sup, "GET", gw.URL+loc, nil, "")
	if resp.StatusCode != 200 || !strings.Contains(page, `<progress id="alert-progress" max="40"`) || !strings.Contains(page, "E&#39; in vigore il blocco") {
		t.Fatalf("detail: %d\n%s", resp.StatusCode, page)
	}

	// The live progress: Server-Sent Events until the alert is done.
	req, _ := http.NewRequest("GET", gw.URL+detail+"/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := sup.Do(req.WithContext(ctx))
	if err != nil || stream.StatusCode != 200 || !strings.HasPrefix(stream.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events: %v %v", err, stream)
	}
	defer stream.Body.Close()
	sc := bufio.NewScanner(stream.Body)
	var last struct {
		Done       int    `json:"done"`
		Recipients int    `json:"recipients"`
		Status     string `json:"status"`
	}
	progressEvents, done := 0, false
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if e, ok := strings.CutPrefix(line, "event: "); ok {
			event = e
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok && event == "progress" {
			progressEvents++
			if err := json.Unmarshal([]byte(data), &last); err != nil {
				t.Fatal(err)
			}
		}
		if event == "done" {
			done = true
			break
		}
	}
	if !done || progressEvents == 0 || last.Done != 40 || last.Recipients != 40 || last.Status != "sent" {
		t.Fatalf("stream: done %v after %d events, last %+v", done, progressEvents, last)
	}
	resp, body = alertPage(t, sup, "GET", gw.URL+detail+"/progress", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"done":40`) {
		t.Fatalf("progress: %d %s", resp.StatusCode, body)
	}
	if gw.Twilio.Count() != 40 {
		t.Fatalf("%d sent", gw.Twilio.Count())
	}

	// A supervisor of another comune sees nothing of it.
	other, _ := alertPageClient(t, gw, "sup-empoli", store.RoleSupervisor, "empoli")
	for _, p := range []string{detail, detail + "/progress", detail + "/events"} {
		if resp, _ := alertPage(t, other, "GET", gw.URL+p, nil, ""); resp.StatusCode != 404 {
			t.Fatalf("empoli's supervisor on %s: %d", p, resp.StatusCode)
		}
	}
	_, page = alertPage(t, other, "GET", gw.URL+"/supervisor/alerts", nil, "")
	if strings.Contains(page, detail) || strings.Contains(page, `value="firenze"`) {
		t.Fatal("empoli's supervisor sees firenze")
	}
}
