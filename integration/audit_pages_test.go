package integration

import (
	"context"
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
	"github.com/sportello/sportello/store/alertstore"
)

var auditRow = regexp.MustCompile(`<tr id="a-[^"]+">`)

// TestAuditPage: the admins' audit log page filters by user, action, contact and days, pages
// through older entries, keeps an admin of some comuni to their entries, refuses other roles,
// and answers a bad date with the form as typed, on both databases.
func TestAuditPage(t *testing.T) {
	eachDialect(t, testAuditPage)
}

func testAuditPage(t *testing.T, d store.Dialect) {
	gw := harness.Start(t, harness.Options{Dialect: d})
	admin := gw.User(t, "capo", store.RoleAdmin)
	gw.User(t, "capofi", store.RoleAdmin, "firenze")
	gw.User(t, "sup", store.RoleSupervisor)
	bg := context.Background()
	if resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", harness.SMSForm("SM"+strings.Repeat("d", 32), "+393471111111", firenzeNumber, "Firenze")); resp.StatusCode != 200 {
		t.Fatalf("sms: %d %s", resp.StatusCode, body)
	}
	if resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", harness.SMSForm("SM"+strings.Repeat("e", 32), "+393472222222", "+39057175761", "Empoli")); resp.StatusCode != 200 {
		t.Fatalf("sms: %d %s", resp.StatusCode, body)
	}
	fi, emp := newestContact(t, gw, admin, "+393471111111").ID, newestContact(t, gw, admin, "+393472222222").ID
	// 60 replies by anna on the Firenze contact, one a day back from yesterday; one claim on
	// Empoli's by bruno today.
	now := time.Now()
	for i := 1; i <= 60; i++ {
		if err := gw.G.Store.Audit(bg, store.AuditEntry{At: now.AddDate(0, 0, -i), Actor: "anna", Action: store.AuditReply, ContactID: &fi, Detail: fmt.Sprintf("risposta %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := gw.G.Store.Audit(bg, store.AuditEntry{Actor: "bruno", Action: store.AuditClaim, ContactID: &emp, Target: "bruno"}); err != nil {
		t.Fatal(err)
	}

	c := pageClient(t)
	harnessLogin(t, c, gw.URL, "capo")
	get := func(c *http.Client, path string) (int, string) {
		st, body, _ := pageGet(t, c, gw.URL+path)
		return st, body
	}
	st, page := get(c, "/admin/audit")
	if st != 200 || len(auditRow.FindAllString(page, -1)) != 50 || !strings.Contains(page, `href="/admin/audit"`) || !strings.Contains(page, "Registro attività") {
		t.Fatalf("first page: %d, %d rows", st, len(auditRow.FindAllString(page, -1)))
	}
	if !strings.Contains(page, `data-action="claim">presa in carico</td>`) || !strings.Contains(page, `href="/inbox/contacts/`+emp+`"`) {
		t.Error("the newest entry (bruno's claim, linked to its contact) is not on the first page")
	}
	next := regexp.MustCompile(`id="audit-next" href="([^"]+)"|href="([^"]+)" rel="next" id="audit-next"`).FindStringSubmatch(page)
	if next == nil {
		t.Fatal("no link to the older entries")
	}
	st, older := get(c, html.UnescapeString(next[1]+next[2]))
	if st != 200 || len(auditRow.FindAllString(older, -1)) != 11 || !strings.Contains(older, "risposta 60") || strings.Contains(older, `id="audit-next"`) || !strings.Contains(older, `id="audit-first"`) {
		t.Fatalf("second page: %d, %d rows", st, len(auditRow.FindAllString(older, -1)))
	}

	// Filters: user, action, contact, days (both included, in the centre's time zone).
	rows := func(path string) int {
		st, body := get(c, path)
		if st != 200 {
			t.Fatalf("%s: %d", path, st)
		}
		return len(auditRow.FindAllString(body, -1))
	}
	day := func(back int) string { return now.AddDate(0, 0, -back).In(gw.Config.Location).Format(time.DateOnly) }
	for path, want := range map[string]int{
		"/admin/audit?actor=bruno":                                 1,
		"/admin/audit?action=claim":                                1,
		"/admin/audit?action=reply&actor=bruno":                    0,
		"/admin/audit?contact=" + emp:                              1,
		"/admin/audit?from=" + day(3) + "&to=" + day(1):            3,
		"/admin/audit?from=" + day(0):                              1,
		"/admin/audit?actor=anna&to=" + day(58):                    3,
		"/admin/audit?actor=anna&from=" + day(5) + "&to=" + day(5): 1,
	} {
		if got := rows(path); got != want {
			t.Errorf("%s: %d rows, want %d", path, got, want)
		}
	}
	// A bad date: 400, the message, what was typed kept, nothing listed.
	st, page = get(c, "/admin/audit?actor=anna&from=ieri")
	if st != http.StatusBadRequest || !strings.Contains(page, "La data iniziale non è valida") || !strings.Contains(page, `value="anna"`) ||
		!strings.Contains(page, `value="ieri" aria-invalid="true"`) || len(auditRow.FindAllString(page, -1)) != 0 {
		t.Errorf("a bad date: %d", st)
	}
	if st, page = get(c, "/admin/audit?from="+day(1)+"&to="+day(3)); st != http.StatusBadRequest || !strings.Contains(page, "successiva") {
		t.Errorf("a reversed range: %d", st)
	}
	if st, _ = get(c, "/admin/audit?cursor=garbage"); st != http.StatusBadRequest {
		t.Errorf("a forged cursor: %d", st)
	}

	// The API filters by the same times (RFC 3339: from included, to excluded).
	var al struct {
		Items []store.AuditEntry `json:"items"`
	}
	since := url.QueryEscape(now.AddDate(0, 0, -3).Add(-time.Minute).Format(time.RFC3339))
	until := url.QueryEscape(now.AddDate(0, 0, -1).Format(time.RFC3339))
	if st := harness.API(t, "GET", gw.URL+"/api/v1/audit?actor=anna&from="+since+"&to="+until, admin, nil, &al); st != 200 || len(al.Items) != 2 {
		t.Errorf("API from/to: %d, %d entries, want 2", st, len(al.Items))
	}
	if st := harness.API(t, "GET", gw.URL+"/api/v1/audit?from=ieri", admin, nil, nil); st != http.StatusBadRequest {
		t.Errorf("API bad from: %d", st)
	}

	// An admin of Firenze sees Firenze's entries only.
	fc := pageClient(t)
	harnessLogin(t, fc, gw.URL, "capofi")
	if st, page = get(fc, "/admin/audit?actor=bruno"); st != 200 || strings.Contains(page, emp) || len(auditRow.FindAllString(page, -1)) != 0 {
		t.Errorf("a Firenze admin sees Empoli's entry: %d", st)
	}
	if st, page = get(fc, "/admin/audit?contact="+fi); st != 200 || len(auditRow.FindAllString(page, -1)) != 50 {
		t.Errorf("a Firenze admin's own entries: %d", st)
	}

	// Supervisors are refused and have no link; anonymous visitors go to the login.
	sc := pageClient(t)
	harnessLogin(t, sc, gw.URL, "sup")
	if st, _ = get(sc, "/admin/audit"); st != http.StatusForbidden {
		t.Errorf("a supervisor: %d", st)
	}
	if _, page = get(sc, "/inbox"); strings.Contains(page, `href="/admin/audit"`) {
		t.Error("a supervisor's menu links the audit log")
	}
	if st, _ = get(pageClient(t), "/admin/audit"); st != http.StatusSeeOther {
		t.Errorf("anonymous: %d", st)
	}
}

// TestCitizenConsentHistory: the citizen page lists the consents of the citizen's numbers
// (subscription, confirmation, STOP) with comune, topics, when and how; a user of another
// comune does not see them, on both databases.
func TestCitizenConsentHistory(t *testing.T) {
	eachDialect(t, testCitizenConsentHistory)
}

func testCitizenConsentHistory(t *testing.T, d store.Dialect) {
	gw := harness.Start(t, harness.Options{Dialect: d})
	admin := gw.User(t, "capo", store.RoleAdmin)
	gw.User(t, "opemp", store.RoleOperator, "empoli")
	gw.User(t, "opfi", store.RoleOperator, "firenze")
	const mobile = "+393473333333"
	if resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", harness.SMSForm("SM"+strings.Repeat("f", 32), mobile, firenzeNumber, "Buongiorno")); resp.StatusCode != 200 {
		t.Fatalf("sms: %d %s", resp.StatusCode, body)
	}
	citizen := newestContact(t, gw, admin, mobile).Citizen.ID
	bg := context.Background()
	as := alertstore.New(gw.G.Store)
	if _, _, err := as.RequestSubscription(bg, "firenze", mobile, []string{"traffico"}, "it", alertstore.ConsentActor{Via: alertstore.ViaAPI, Actor: "chiave-1"},
		func(context.Context, *store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	// The same number asked for by Empoli too: a Firenze user must not see that.
	if _, _, err := as.RequestSubscription(bg, "empoli", mobile, nil, "it", alertstore.ConsentActor{Via: alertstore.ViaAPI, Actor: "chiave-empoli"},
		func(context.Context, *store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := gw.G.Store.Write(bg, func(ctx context.Context, tx *store.Tx) error {
		if _, err := alertstore.ConfirmPending(ctx, tx, mobile, "", time.Now().Add(-time.Hour), alertstore.ConsentActor{Via: alertstore.ViaSMS, Actor: mobile}); err != nil {
			return err
		}
		_, err := alertstore.OptOut(ctx, tx, mobile, alertstore.ConsentActor{Via: alertstore.ViaSMS, Actor: mobile}, "")
		return err
	}); err != nil {
		t.Fatal(err)
	}

	c := pageClient(t)
	harnessLogin(t, c, gw.URL, "opfi")
	st, page, _ := pageGet(t, c, gw.URL+"/inbox/citizens/"+citizen)
	if st != 200 {
		t.Fatalf("citizen page: %d", st)
	}
	actions := regexp.MustCompile(`<tr data-action="([a-z]+)">`).FindAllStringSubmatch(page, -1)
	var got []string
	for _, a := range actions {
		got = append(got, a[1])
	}
	if strings.Join(got, ",") != "stop,confirm,request" {
		t.Fatalf("consent rows (newest first): %v", got)
	}
	for _, want := range []string{"revoca (STOP)", "tutti i comuni", "Comune di Firenze", "traffico", "API del comune · <bdi>chiave-1</bdi>", "iscrizione chiesta dal comune"} {
		if !strings.Contains(page, want) {
			t.Errorf("the consent history lacks %q", want)
		}
	}
	if strings.Contains(page, "chiave-empoli") || strings.Contains(page, "Comune di Empoli</td>") {
		t.Error("a Firenze operator sees Empoli's consents")
	}
	a := pageClient(t)
	harnessLogin(t, a, gw.URL, "capo")
	_, page, _ = pageGet(t, a, gw.URL+"/inbox/citizens/"+citizen)
	// Empoli's request is not confirmed by the SI: no confirmation was sent for it the same day.
	if n := len(regexp.MustCompile(`<tr data-action="`).FindAllString(page, -1)); n != 4 || !strings.Contains(page, "chiave-empoli") {
		t.Errorf("an admin of every comune sees %d consent rows, want 4 (both comuni's)", n)
	}
	// An Empoli operator cannot open a Firenze citizen at all; the consents stay unseen.
	e := pageClient(t)
	harnessLogin(t, e, gw.URL, "opemp")
	if st, page, _ = pageGet(t, e, gw.URL+"/inbox/citizens/"+citizen); st != http.StatusNotFound || strings.Contains(page, "consent-rows") {
		t.Errorf("an Empoli operator: %d", st)
	}
}

// TestAccessibilityStatement: /accessibilita is public, in Italian and English, states the
// conformance, the non-conformant content, a mailto to report a problem and the enforcement
// procedure; every page's footer links it (the layout's pages and the plain error page).
func TestAccessibilityStatement(t *testing.T) {
	gw := harness.Start(t, harness.Options{Dialect: store.SQLite})
	gw.User(t, "capo", store.RoleAdmin)
	anon := pageClient(t)
	st, page, _ := pageGet(t, anon, gw.URL+"/accessibilita")
	if st != 200 {
		t.Fatalf("anonymous: %d", st)
	}
	for _, want := range []string{`lang="it"`, "Dichiarazione di accessibilità", "parzialmente conforme", "WCAG 2.1", "EN 301549",
		"Contenuti non accessibili", `href="mailto:urp@comune.fi.it?subject=`, `href="mailto:urp@comune.empoli.fi.it?subject=`,
		"Procedura di attuazione", "https://form.agid.gov.it/", "Difensore civico per il digitale"} {
		if !strings.Contains(page, want) {
			t.Errorf("the statement lacks %q", want)
		}
	}
	if strings.Contains(page, `action="/logout"`) {
		t.Error("an anonymous visitor sees a session")
	}
	st, page, _ = pageGet(t, anon, gw.URL+"/accessibilita?lang=en")
	for _, want := range []string{`lang="en"`, "Accessibility statement", "partially compliant", "Enforcement procedure", "Feedback and contact information"} {
		if st != 200 || !strings.Contains(page, want) {
			t.Errorf("the English statement (%d) lacks %q", st, want)
		}
	}
	signed := pageClient(t)
	harnessLogin(t, signed, gw.URL, "capo")
	if _, page, _ = pageGet(t, signed, gw.URL+"/accessibilita?lang=it"); !strings.Contains(page, `action="/logout"`) || !strings.Contains(page, `href="/admin/audit"`) {
		t.Error("a signed-in admin reads the statement without their menu")
	}
	for _, p := range []struct {
		c    *http.Client
		path string
	}{{anon, "/login"}, {anon, "/nope"}, {signed, "/inbox"}, {signed, "/inbox/queues"}, {signed, "/supervisor/alerts"}, {signed, "/supervisor/reports"},
		{signed, "/supervisor/wallboard"}, {signed, "/inbox/outbox"}, {signed, "/admin/audit"}, {signed, "/inbox/contacts/nope"}} {
		_, page, _ := pageGet(t, p.c, gw.URL+p.path)
		if !strings.Contains(page, `<a href="/accessibilita"`) {
			t.Errorf("%s: no link to the accessibility statement", p.path)
		}
	}
}

// harnessLogin signs a page client in as a user harness.Gateway.User made ("password-" + name).
func harnessLogin(t *testing.T, c *http.Client, base, username string) {
	t.Helper()
	_, _, tok := pageGet(t, c, base+"/login")
	resp, body := pagePost(t, c, base+"/login", url.Values{"csrf": {tok}, "username": {username}, "password": {"password-" + username}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d %s", username, resp.StatusCode, body)
	}
}
