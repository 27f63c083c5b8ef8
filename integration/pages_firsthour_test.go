package integration

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/alertpages"
	"github.com/sportello/sportello/web/pages"
	"github.com/sportello/sportello/web/reportpages"
)

// TestPagesShowNumbersAsItaliansWriteThem: the inbox, the contact and the citizen show
// "347 123 4567", with the E.164 form on hover and in a tel: link.
func TestPagesShowNumbersAsItaliansWriteThem(t *testing.T) {
	gw := harness.Start(t, harness.Options{})
	admin := gw.User(t, "api", store.RoleAdmin)
	inboundSMS(t, gw, "+393471234567", firenzeNumber, "Buongiorno, domani c'è il blocco del traffico?")
	ct := newestContact(t, gw, admin, "+393471234567")
	bg := &browserGateway{G: gw.G, URL: gw.URL}
	bg.user(t, "capo", store.RoleAdmin)
	c := pageClient(t)
	pageLogin(t, c, gw.URL, "capo")

	status, page, _ := pageGet(t, c, gw.URL+"/inbox")
	if status != http.StatusOK || !strings.Contains(page, "347 123 4567") || strings.Contains(page, ">+393471234567<") {
		t.Fatalf("the inbox (%d) does not show the number as written in Italy", status)
	}
	status, page, _ = pageGet(t, c, gw.URL+"/inbox/contacts/"+ct.ID)
	for _, want := range []string{`href="tel:+393471234567" title="+393471234567">347 123 4567</a>`, `>055 276 8000</a>`} {
		if status != http.StatusOK || !strings.Contains(page, want) {
			t.Fatalf("the contact page (%d) lacks %s", status, want)
		}
	}
	status, page, _ = pageGet(t, c, gw.URL+"/inbox/citizens/"+ct.Citizen.ID)
	if status != http.StatusOK || !strings.Contains(page, `href="tel:+393471234567"`) {
		t.Fatalf("the citizen page (%d) does not link the number", status)
	}
}

// TestNotFoundAndMethodNotAllowed: a browser gets an HTML page in its language for a path that
// does not exist, the API JSON; a known path with the wrong method is 405 with Allow, not 404.
func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	gw := harness.Start(t, harness.Options{})
	tok := gw.User(t, "api", store.RoleAdmin)
	do := func(method, path, accept string) (*http.Response, string) {
		req, _ := http.NewRequest(method, gw.URL+path, strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		return harness.Do(t, req)
	}
	for _, c := range []struct{ method, path, allow string }{
		{"POST", "/api/v1/me/status", "PUT"},
		{"DELETE", "/api/v1/contacts", "GET"},
		{"GET", "/api/v1/contacts/x/reply", "POST"},
	} {
		resp, body := do(c.method, c.path, "")
		if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), c.allow) || !strings.Contains(body, `"method_not_allowed"`) {
			t.Errorf("%s %s: %d Allow=%q %s", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), body)
		}
	}
	if resp, body := do("GET", "/api/v1/nope", "text/html"); resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("an unknown API path: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp, body := do("GET", "/api/v1/contacts/01a22aa5-0000-7000-8000-000000000000", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing contact must stay 404: %d %s", resp.StatusCode, body)
	}
	resp, body := do("GET", "/nope", "text/html")
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, `lang="it"`) || !strings.Contains(body, "Non trovato") || strings.Contains(body, "Not Found") {
		t.Errorf("a browser's unknown path: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	bg := &browserGateway{G: gw.G, URL: gw.URL}
	bg.user(t, "capo", store.RoleAdmin)
	c := pageClient(t)
	pageLogin(t, c, gw.URL, "capo")
	if status, page, _ := pageGet(t, c, gw.URL+"/inbox/nope"); status != http.StatusNotFound || !strings.Contains(page, "<html") {
		t.Errorf("an unknown inbox page: %d", status)
	}
}

// TestCallsShowAsCalls: a call's thread shows the call (status, duration), not an empty message
// bubble; a landline caller gets a call-back action instead of an SMS box; a mobile keeps the box.
func TestCallsShowAsCalls(t *testing.T) {
	gw := harness.Start(t, harness.Options{})
	admin := gw.User(t, "api", store.RoleAdmin)
	call := func(sid, from string) string {
		if resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/voice", harness.CallForm(sid, from, firenzeNumber, "ringing")); resp.StatusCode != 200 {
			t.Fatalf("voice webhook: %d %s", resp.StatusCode, body)
		}
		form := harness.CallForm(sid, from, firenzeNumber, "completed")
		form.Set("CallDuration", "117")
		if resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/voice/status", form); resp.StatusCode != 200 {
			t.Fatalf("status webhook: %d %s", resp.StatusCode, body)
		}
		return newestContact(t, gw, admin, from).ID
	}
	landline := call("CA00000000000000000000000000000101", "+390557654321")
	mobile := call("CA00000000000000000000000000000102", "+393471234567")
	bg := &browserGateway{G: gw.G, URL: gw.URL}
	bg.user(t, "capo", store.RoleAdmin)
	c := pageClient(t)
	pageLogin(t, c, gw.URL, "capo")

	_, page, _ := pageGet(t, c, gw.URL+"/inbox/contacts/"+landline)
	for _, want := range []string{`class="call-summary"`, "conclusa", "1:57", `id="call-back" href="tel:&#43;390557654321"`, "055 765 4321"} {
		if !strings.Contains(page, want) {
			t.Errorf("the landline call's page lacks %s", want)
		}
	}
	for _, unwanted := range []string{`<div class="body"></div>`, `id="reply-form"`, "completed"} {
		if strings.Contains(page, unwanted) {
			t.Errorf("the landline call's page shows %s", unwanted)
		}
	}
	_, page, _ = pageGet(t, c, gw.URL+"/inbox/contacts/"+mobile)
	if !strings.Contains(page, `id="reply-form"`) || !strings.Contains(page, "si risponde per SMS") || strings.Contains(page, `id="call-back"`) {
		t.Errorf("a mobile caller's page must keep the SMS reply box")
	}
}

var (
	tagOrScript = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<[^>]*>`)
	spaces      = regexp.MustCompile(`\s+`)
)

// visibleText is what a person reads on a page: the text between the tags.
func visibleText(page string) string {
	return spaces.ReplaceAllString(html.UnescapeString(tagOrScript.ReplaceAllString(page, " ")), " ")
}

// catalogues are every catalogue of texts pages show, by language.
func catalogues(lang string) []map[string]string {
	return []map[string]string{pages.T(lang), alertpages.Texts(lang), reportpages.Texts(lang)}
}

// englishOnly is every English text (six characters or more, no format verbs) that is not
// also an Italian one, as a whole-word pattern ("operator" is not in "operatori"): none may
// appear on a page rendered in Italian.
func englishOnly() map[string]*regexp.Regexp {
	italian := map[string]bool{}
	for _, cat := range catalogues("it") {
		for _, v := range cat {
			italian[v] = true
		}
	}
	english := map[string]*regexp.Regexp{}
	for _, cat := range catalogues("en") {
		for k, v := range cat {
			if len(v) >= 6 && !italian[v] && !strings.HasPrefix(k, "js_") && !strings.Contains(v, "%") {
				english[v] = regexp.MustCompile(`(^|\PL)` + regexp.QuoteMeta(v) + `($|\PL)`)
			}
		}
	}
	return english
}

// TestItalianPagesSpeakItalian: no string of any English catalogue appears on a page rendered
// in Italian: every page the demo's users reach (the inbox and its filters, an SMS answered out
// of hours, a call, an email, a citizen, the queues, the outbox, the alerts and one alert, the
// reports, the wallboard, an error page) and the pages showing a refusal from the desk or the
// alerts service. Alert lists show names, not ids.
func TestItalianPagesSpeakItalian(t *testing.T) {
	// Open only tomorrow: the SMS gets the closed-hours answer and its note.
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	tomorrow := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}[(time.Now().In(rome).Weekday()+1)%7]
	yaml := strings.Replace(harness.BaseYAML, "days: [mon, tue, wed, thu, fri, sat, sun]", "days: ["+tomorrow+"]", 1)
	gw := harness.Start(t, harness.Options{Replace: yaml})
	admin := gw.User(t, "api", store.RoleAdmin)
	inboundSMS(t, gw, "+393471234567", firenzeNumber, "Buongiorno, domani c'è il blocco del traffico?")
	sms := newestContact(t, gw, admin, "+393471234567")
	inboundSMS(t, gw, "+393479999999", "+39055055", "Buongiorno, a chi mi rivolgo?")
	undecided := newestContact(t, gw, admin, "+393479999999")
	if resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/voice", harness.CallForm("CA00000000000000000000000000000201", "+390557654321", firenzeNumber, "ringing")); resp.StatusCode != 200 {
		t.Fatalf("voice webhook: %d %s", resp.StatusCode, body)
	}
	form := harness.CallForm("CA00000000000000000000000000000201", "+390557654321", firenzeNumber, "completed")
	form.Set("CallDuration", "117")
	harness.PostTwilio(t, gw.URL, "/webhooks/twilio/voice/status", form)
	call := newestContact(t, gw, admin, "+390557654321")
	key := alertKey(t, gw, "firenze")
	st, j := alertCall(t, "POST", gw.URL+"/api/v1/alerts", key, map[string]any{"category": "blocco-traffico", "message": "Blocco del traffico domani"}, "")
	if st != http.StatusAccepted {
		t.Fatalf("alert: %d %v", st, j)
	}
	alertID := fmt.Sprint(j["id"])

	english := englishOnly()
	bg := &browserGateway{G: gw.G, URL: gw.URL}
	bg.user(t, "capo", store.RoleAdmin)
	c := pageClient(t)
	pageLogin(t, c, gw.URL, "capo")
	check := func(path, text string) {
		t.Helper()
		for e, re := range english {
			if re.MatchString(text) {
				t.Errorf("%s, in Italian, shows the English %q", path, e)
			}
		}
		for _, raw := range []string{"closed-hours automatic answer", "completed ·", " not found", "is required", "must be"} {
			if strings.Contains(text, raw) {
				t.Errorf("%s, in Italian, shows %q", path, raw)
			}
		}
	}
	for _, path := range []string{"/inbox", "/inbox?comune=-", "/inbox?assignee=me", "/inbox?channel=nope&status=nope", "/inbox?cursor=x",
		"/inbox/contacts/" + sms.ID, "/inbox/contacts/" + call.ID, "/inbox/contacts/" + undecided.ID, "/inbox/contacts/" + sms.ID + "?resolve=1",
		"/inbox/citizens/" + sms.Citizen.ID, "/inbox/queues", "/supervisor/alerts", "/supervisor/alerts/" + alertID, "/supervisor/reports",
		"/supervisor/wallboard", "/inbox/outbox", "/nope", "/inbox/contacts/nope"} {
		status, page, _ := pageGet(t, c, gw.URL+path)
		if status != http.StatusOK && !strings.Contains(path, "nope") {
			t.Errorf("%s: %d", path, status)
			continue
		}
		text := visibleText(page)
		if path == "/inbox/contacts/"+sms.ID && !strings.Contains(text, "risposta automatica fuori orario") {
			t.Errorf("the SMS answered out of hours does not show its note in Italian")
		}
		if strings.HasPrefix(path, "/supervisor/alerts") {
			for _, id := range []string{"blocco-traffico", "firenze", ">api<"} {
				if strings.Contains(text, id) || strings.Contains(page, id) && id == ">api<" {
					t.Errorf("%s shows the raw id %q", path, id)
				}
			}
			if !strings.Contains(text, "Blocco del traffico") || !strings.Contains(text, "Comune di Firenze") && path == "/supervisor/alerts" {
				t.Errorf("%s does not name the category or the comune", path)
			}
		}
		check(path, text)
	}

	// The login page, the goodbye after logout, and an operator sent away from a supervisors' page.
	anon := pageClient(t)
	for _, path := range []string{"/login", "/login?bye=1"} {
		_, page, _ := pageGet(t, anon, gw.URL+path)
		check(path, visibleText(page))
	}
	bg.user(t, "mario", store.RoleOperator, "firenze")
	opc := pageClient(t)
	pageLogin(t, opc, gw.URL, "mario")
	for _, path := range []string{"/inbox", "/inbox/contacts/" + undecided.ID, "/supervisor/alerts", "/inbox/queues"} {
		status, page, _ := pageGet(t, opc, gw.URL+path)
		if (path == "/inbox" || strings.HasPrefix(path, "/inbox/contacts/")) && status != http.StatusOK {
			t.Errorf("the Firenze operator gets %d on %s", status, path)
		}
		check("operator "+path, visibleText(page))
	}

	// Refusals from the desk and the alerts service, shown in the page, are in Italian too.
	_, _, tok := pageGet(t, c, gw.URL+"/inbox/contacts/"+sms.ID)
	for _, r := range []struct {
		path string
		form url.Values
		want string
	}{
		{"/inbox/contacts/" + sms.ID + "/resolve", url.Values{"outcome": {"transferred_phone"}}, "Ufficio sconosciuto"},
		{"/inbox/contacts/" + sms.ID + "/route", url.Values{"comune": {"atlantide"}}, "Comune sconosciuto"},
		{"/inbox/contacts/" + sms.ID + "/assign", url.Values{"username": {"nessuno"}}, "Operatore sconosciuto"},
		{"/supervisor/alerts", url.Values{"comune": {"firenze"}, "category": {"altro"}, "message": {"x"}, "send_at": {"2001-01-01T08:00"}}, "già passato"},
		{"/supervisor/alerts", url.Values{"comune": {"firenze"}, "category": {"altro"}, "message": {" "}}, "Scrivi il testo"},
	} {
		r.form.Set("csrf", tok)
		resp, page := pagePost(t, c, gw.URL+r.path, r.form)
		text := visibleText(page)
		if resp.StatusCode < 400 || !strings.Contains(text, r.want) {
			t.Errorf("POST %s: %d, want a page saying %q:\n%s", r.path, resp.StatusCode, r.want, text)
		}
		check("POST "+r.path, text)
	}
}
