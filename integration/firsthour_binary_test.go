package integration

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/adapters/twilio"
	"github.com/sportello/sportello/integration/harness"
)

// demoServer is the real binary serving the demo config from dir on free ports.
type demoServer struct {
	dir, base string
	env       []string
}

func startDemoBinary(t *testing.T) *demoServer {
	t.Helper()
	dir := t.TempDir()
	httpAddr, smtpAddr := harness.FreePort(t), harness.FreePort(t)
	d := &demoServer{dir: dir, base: "http://" + httpAddr, env: []string{"SPORTELLO_HTTP_LISTEN=" + httpAddr, "SPORTELLO_SMTP_LISTEN=" + smtpAddr}}
	server := exec.Command(harness.Binary(t), "serve")
	server.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPORTELLO_") && !strings.HasPrefix(kv, "TWILIO_") {
			server.Env = append(server.Env, kv)
		}
	}
	server.Env = append(server.Env, d.env...)
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Process.Kill(); _ = server.Wait() })
	deadline := time.Now().Add(90 * time.Second)
	for {
		if out, err := runSportello(t, dir, d.env, "probe"); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the demo is not ready: %v %s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return d
}

// user adds a user through the CLI, with the browser tests' password on stdin.
func (d *demoServer) user(t *testing.T, username, role string, comuni ...string) {
	t.Helper()
	args := []string{"user", "add", "--username", username, "--role", role}
	for _, c := range comuni {
		args = append(args, "--comune", c)
	}
	cmd := exec.Command(harness.Binary(t), args...)
	cmd.Dir = d.dir
	cmd.Env = append(os.Environ(), d.env...)
	cmd.Stdin = strings.NewReader(browserPassword + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user add %s: %v\n%s", username, err, out)
	}
}

// sms posts an inbound SMS signed with the demo's webhook token.
func (d *demoServer) sms(t *testing.T, from, to, body string) {
	t.Helper()
	form := harness.SMSForm(newSid("SM"), from, to, body)
	path := "/webhooks/twilio/sms"
	if resp, text := harness.PostTwilioSigned(t, d.base, path, form, twilio.Signature("demo-auth-token", d.base+path, form)); resp.StatusCode != 200 {
		t.Fatalf("sms webhook: %d %s", resp.StatusCode, text)
	}
}

var contactLink = func(page, text string) string {
	i := strings.Index(page, text)
	if i < 0 {
		return ""
	}
	j := strings.LastIndex(page[:i], `href="/inbox/contacts/`)
	if j < 0 {
		return ""
	}
	rest := page[j+len(`href="`):]
	return rest[:strings.Index(rest, `"`)]
}

// TestBinaryUndecidedContactsReachTheSharedNumbersComuni: with the real binary and the demo, a
// text to the shared number naming no comune is "da definire"; a Firenze operator sees it (the
// shared number serves Firenze), decides Empoli on the contact page, and it leaves their view
// for the Empoli operator's. The change is audited.
func TestBinaryUndecidedContactsReachTheSharedNumbersComuni(t *testing.T) {
	d := startDemoBinary(t)
	d.user(t, "mario", "operator", "firenze")
	d.user(t, "elena", "operator", "empoli")
	const text = "Buongiorno, vorrei sapere gli orari dell'anagrafe"
	d.sms(t, "+393471234567", "+39055055", text)

	mario := pageClient(t)
	pageLogin(t, mario, d.base, "mario")
	var link string
	deadline := time.Now().Add(20 * time.Second)
	for link == "" {
		_, page, _ := pageGet(t, mario, d.base+"/inbox?comune=-")
		link = contactLink(page, "orari dell&#39;anagrafe")
		if link == "" && time.Now().After(deadline) {
			t.Fatalf("the Firenze operator does not see the undecided SMS in the da-definire list:\n%s", visibleText(page))
		}
		time.Sleep(200 * time.Millisecond)
	}
	status, page, tok := pageGet(t, mario, d.base+link)
	if status != http.StatusOK || !strings.Contains(page, `id="route-form"`) || !strings.Contains(page, `<option value="empoli">Comune di Empoli</option>`) ||
		!strings.Contains(visibleText(page), "da definire") {
		t.Fatalf("the undecided contact's page (%d) lacks the route form with Empoli", status)
	}
	// Without the CSRF token nothing changes.
	if resp, _ := pagePost(t, mario, d.base+link+"/route", url.Values{"comune": {"empoli"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a route without CSRF: %d", resp.StatusCode)
	}
	resp, _ := pagePost(t, mario, d.base+link+"/route", url.Values{"csrf": {tok}, "comune": {"empoli"}, "category": {"servizi-generici"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/inbox?done=routed_away" {
		t.Fatalf("route to Empoli: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page, _ = pageGet(t, mario, d.base+"/inbox?done=routed_away")
	if strings.Contains(page, "orari dell&#39;anagrafe") || !strings.Contains(visibleText(page), "nella sua coda") {
		t.Errorf("the contact is still in the Firenze operator's inbox, or no notice says where it went")
	}
	if status, _, _ := pageGet(t, mario, d.base+link); status != http.StatusNotFound {
		t.Errorf("the Firenze operator still opens the contact: %d", status)
	}
	elena := pageClient(t)
	pageLogin(t, elena, d.base, "elena")
	status, page, _ = pageGet(t, elena, d.base+link)
	if status != http.StatusOK || !strings.Contains(visibleText(page), "Comune di Empoli") || !strings.Contains(visibleText(page), "Servizi generici") {
		t.Fatalf("the Empoli operator does not get the contact (%d)", status)
	}
	d.user(t, "capo", "admin")
	out, err := runSportello(t, d.dir, d.env, "token", "create", "--username", "capo")
	if err != nil {
		t.Fatalf("token create: %v %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var audit struct {
		Items []struct {
			Actor, Action, Target string
		} `json:"items"`
	}
	if st := harness.API(t, "GET", d.base+"/api/v1/audit?action=reroute", lines[len(lines)-1], nil, &audit); st != 200 {
		t.Fatalf("audit: %d", st)
	}
	found := false
	for _, e := range audit.Items {
		found = found || (e.Actor == "mario" && e.Action == "reroute" && strings.Contains(e.Target, "empoli"))
	}
	if !found {
		t.Errorf("no audit entry for mario's reroute: %+v", audit.Items)
	}
}

// TestBinaryPresenceSurvivesSessions: with the real binary, an operator who chose "available"
// is offline once logged out (nothing is assigned to someone who left) and available again at
// the next login; one who chose offline stays offline. The control is in the page header.
func TestBinaryPresenceSurvivesSessions(t *testing.T) {
	d := startDemoBinary(t)
	d.user(t, "mario", "operator", "firenze")
	d.user(t, "capo", "admin")
	out, err := runSportello(t, d.dir, d.env, "token", "create", "--username", "capo")
	if err != nil {
		t.Fatalf("token create: %v %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	admin := lines[len(lines)-1]
	presenceOf := func() string {
		var users struct {
			Items []struct {
				Username string `json:"username"`
				Presence string `json:"presence"`
			} `json:"items"`
		}
		if st := harness.API(t, "GET", d.base+"/api/v1/users", admin, nil, &users); st != 200 {
			t.Fatalf("users: %d", st)
		}
		for _, u := range users.Items {
			if u.Username == "mario" {
				return u.Presence
			}
		}
		t.Fatal("mario is not listed")
		return ""
	}
	header := func(page string) string {
		i := strings.Index(page, `<header class="topbar">`)
		j := strings.Index(page, `</header>`)
		if i < 0 || j < i {
			t.Fatal("the page has no header")
		}
		return page[i:j]
	}
	session := func(set string) {
		c := pageClient(t)
		pageLogin(t, c, d.base, "mario")
		_, page, tok := pageGet(t, c, d.base+"/inbox")
		if !strings.Contains(header(page), `id="presence-status"`) {
			t.Fatal("the presence control is not in the header")
		}
		if set != "" {
			if resp, _ := pagePost(t, c, d.base+"/inbox/presence", url.Values{"csrf": {tok}, "status": {set}}); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("set presence %s: %d", set, resp.StatusCode)
			}
		}
		if resp, _ := pagePost(t, c, d.base+"/logout", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
	}
	selected := func() string {
		c := pageClient(t)
		pageLogin(t, c, d.base, "mario")
		_, page, tok := pageGet(t, c, d.base+"/inbox")
		h := header(page)
		for _, p := range []string{"available", "away", "offline"} {
			if strings.Contains(h, `<option value="`+p+`" selected>`) {
				pagePost(t, c, d.base+"/logout", url.Values{"csrf": {tok}})
				return p
			}
		}
		t.Fatal("no presence selected in the header")
		return ""
	}

	if got := selected(); got != "offline" {
		t.Fatalf("a new operator starts %s, want offline", got)
	}
	session("available")
	if p := presenceOf(); p != "offline" {
		t.Fatalf("after logout mario is %s, want offline", p)
	}
	if got := selected(); got != "available" {
		t.Fatalf("the next login shows %s, want the available mario chose", got)
	}
	session("away")
	if got := selected(); got != "away" {
		t.Fatalf("after choosing away, the next login shows %s", got)
	}
	session("offline")
	if got := selected(); got != "offline" {
		t.Fatalf("after choosing offline, the next login shows %s", got)
	}
}
