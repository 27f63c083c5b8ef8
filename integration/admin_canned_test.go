package integration

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

type cannedJSON struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	TextIT   string   `json:"text_it"`
	TextEN   string   `json:"text_en"`
	Comune   *string  `json:"comune"`
	Channels []string `json:"channels"`
	Segments struct {
		IT struct {
			Encoding string `json:"encoding"`
			Segments int    `json:"segments"`
		} `json:"it"`
	} `json:"segments"`
}

type cannedListJSON struct {
	Items []cannedJSON `json:"items"`
}

type auditListJSON struct {
	Items []store.AuditEntry `json:"items"`
}

// A comune's supervisor manages its own canned answers only: Empoli's are 404 to Firenze's,
// shared ones are read-only (403) to both; every change is audited.
func TestCannedAnswersAPIScopeAndAudit(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	root := g.User(t, "root", store.RoleAdmin)
	fiSup := g.User(t, "fi-sup", store.RoleSupervisor, "firenze")
	fiOp := g.User(t, "fi-op", store.RoleOperator, "firenze")
	empSup := g.User(t, "emp-sup", store.RoleSupervisor, "empoli")

	var list cannedListJSON
	if st := harness.API(t, "GET", g.URL+"/api/v1/canned", root, nil, &list); st != 200 || len(list.Items) != 6 {
		t.Fatalf("a fresh install has %d canned answers (status %d), want the 6 built-in ones", len(list.Items), st)
	}
	shared := list.Items[0]
	if shared.Comune != nil || shared.TextEN == "" || shared.Segments.IT.Segments < 1 {
		t.Fatalf("a built-in answer: %+v", shared)
	}
	var emp cannedJSON
	if st := harness.API(t, "POST", g.URL+"/api/v1/canned", empSup, map[string]any{"title": "Mercato di Empoli",
		"text_it": "Il mercato del giovedì è in piazza, {nome}.", "comune": "empoli", "channels": []string{"sms"}}, &emp); st != 201 || emp.ID == "" {
		t.Fatalf("Empoli's supervisor creates an answer: %d %+v", st, emp)
	}
	for _, c := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "/api/v1/canned/" + emp.ID, nil, 404},
		{"PUT", "/api/v1/canned/" + emp.ID, map[string]any{"title": "x", "text_it": "y", "comune": "firenze"}, 404},
		{"DELETE", "/api/v1/canned/" + emp.ID, nil, 404},
		{"GET", "/api/v1/canned?comune=empoli", nil, 404},
		{"POST", "/api/v1/canned", map[string]any{"title": "x", "text_it": "y", "comune": "empoli"}, 404},
		{"PUT", "/api/v1/canned/" + shared.ID, map[string]any{"title": "x", "text_it": "y"}, 403},
		{"POST", "/api/v1/canned", map[string]any{"title": "x", "text_it": "y"}, 403},
		{"POST", "/api/v1/canned", map[string]any{"title": "x", "text_it": "Gentile {cognome}", "comune": "firenze"}, 400},
		{"GET", "/api/v1/comuni/empoli/hours", nil, 404},
		{"PUT", "/api/v1/comuni/firenze/hours", map[string]any{"days": []string{"mon"}, "open": "08:00", "close": "09:00"}, 403},
	} {
		if st := harness.API(t, c.method, g.URL+c.path, fiSup, c.body, nil); st != c.want {
			t.Errorf("Firenze's supervisor: %s %s = %d, want %d", c.method, c.path, st, c.want)
		}
	}
	if st := harness.API(t, "POST", g.URL+"/api/v1/canned", fiOp, map[string]any{"title": "x", "text_it": "y", "comune": "firenze"}, nil); st != 403 {
		t.Errorf("an operator creates canned answers: %d", st)
	}
	harness.API(t, "GET", g.URL+"/api/v1/canned", fiSup, nil, &list)
	for _, it := range list.Items {
		if it.ID == emp.ID || strings.Contains(it.Title, "Empoli") {
			t.Fatalf("Firenze's supervisor lists Empoli's answer: %+v", it)
		}
	}
	var fi cannedJSON
	if st := harness.API(t, "POST", g.URL+"/api/v1/canned", fiSup, map[string]any{"title": "ZTL Firenze",
		"text_it": "È attiva la ZTL notturna a {comune}.", "text_en": "The night ZTL is on in the {comune}.", "comune": "firenze", "channels": []string{"sms", "email"}}, &fi); st != 201 {
		t.Fatalf("create: %d", st)
	}
	if fi.Segments.IT.Encoding != "UCS-2" {
		t.Fatalf("an È makes the SMS UCS-2: %+v", fi.Segments)
	}
	if st := harness.API(t, "PUT", g.URL+"/api/v1/canned/"+fi.ID, fiSup, map[string]any{"title": "ZTL Firenze", "text_it": "E' attiva la ZTL notturna.",
		"comune": "firenze", "channels": []string{"sms"}}, &fi); st != 200 || fi.Segments.IT.Encoding != "GSM-7" {
		t.Fatalf("update: %d %+v", st, fi)
	}
	if st := harness.API(t, "DELETE", g.URL+"/api/v1/canned/"+fi.ID, fiSup, nil, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	for _, action := range []string{"canned_create", "canned_update", "canned_delete"} {
		var log auditListJSON
		harness.API(t, "GET", g.URL+"/api/v1/audit?actor=fi-sup&action="+action, root, nil, &log)
		if len(log.Items) != 1 || log.Items[0].Target != fi.ID {
			t.Errorf("audit %s: %+v", action, log.Items)
		}
	}
	var log auditListJSON
	harness.API(t, "GET", g.URL+"/api/v1/audit?actor=emp-sup&action=canned_create", root, nil, &log)
	if len(log.Items) != 1 || log.Items[0].Target != emp.ID {
		t.Errorf("audit of Empoli's answer: %+v", log.Items)
	}
}

type calendarJSON struct {
	Comune   string   `json:"comune"`
	Days     []string `json:"days"`
	Open     string   `json:"open"`
	Close    string   `json:"close"`
	Holidays []struct {
		Rule string `json:"rule"`
		Name string `json:"name"`
	} `json:"holidays"`
	Edited   bool `json:"edited"`
	Upcoming []struct {
		Date string `json:"date"`
		Name string `json:"name"`
	} `json:"upcoming"`
}

type summaryDaysJSON struct {
	ByDay []struct {
		Date   string `json:"date"`
		Closed bool   `json:"closed"`
	} `json:"by_day"`
}

// A holiday an admin adds for today closes Firenze's desk: an SMS gets the closed-hours answer
// and the report marks the day closed, while Empoli stays open.
func TestEditedHolidayClosesDeskAndReports(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	root := g.User(t, "root", store.RoleAdmin)
	today := time.Now().In(mustRome(t)).Format("2006-01-02")
	closedToday := func(comune string) bool {
		t.Helper()
		var s summaryDaysJSON
		if st := harness.API(t, "GET", g.URL+"/api/v1/reports/summary?from="+today+"&to="+today+"&comune="+comune, root, nil, &s); st != 200 || len(s.ByDay) != 1 {
			t.Fatalf("summary: %d %+v", st, s)
		}
		return s.ByDay[0].Closed
	}
	if answer := inboundSMS(t, g, "+393472229001", firenzeNumber, "buongiorno"); strings.Contains(answer, "<Message>") {
		t.Fatalf("answered while open: %s", answer)
	}
	if closedToday("firenze") {
		t.Fatal("the report marks an open day closed")
	}
	var cal calendarJSON
	if st := harness.API(t, "GET", g.URL+"/api/v1/comuni/firenze/hours", root, nil, &cal); st != 200 || !cal.Edited || len(cal.Days) != 7 {
		t.Fatalf("seeded calendar: %d %+v", st, cal)
	}
	body := map[string]any{"days": cal.Days, "open": cal.Open, "close": cal.Close,
		"holidays": append(cal.Holidays, struct {
			Rule string `json:"rule"`
			Name string `json:"name"`
		}{today, "Chiusura straordinaria"})}
	if st := harness.API(t, "PUT", g.URL+"/api/v1/comuni/firenze/hours", root, body, &cal); st != 200 || len(cal.Upcoming) == 0 || cal.Upcoming[0].Date != today {
		t.Fatalf("edit: %d %+v", st, cal)
	}
	if st := harness.API(t, "PUT", g.URL+"/api/v1/comuni/firenze/hours", root, map[string]any{"days": []string{"mon"}, "open": "18:00", "close": "08:00"}, nil); st != 400 {
		t.Fatalf("closing before opening: %d", st)
	}
	answer := inboundSMS(t, g, "+393472229002", firenzeNumber, "buongiorno")
	if !strings.Contains(answer, "<Message>") || !strings.Contains(answer, "chiusi") {
		t.Fatalf("no closed-hours answer on the edited holiday: %s", answer)
	}
	if answer := inboundSMS(t, g, "+393472229003", empoliNumber, "buongiorno"); strings.Contains(answer, "<Message>") {
		t.Fatalf("Empoli answered closed on Firenze's holiday: %s", answer)
	}
	if !closedToday("firenze") || closedToday("empoli") {
		t.Fatal("the report's calendar does not follow the edit")
	}
	var log auditListJSON
	harness.API(t, "GET", g.URL+"/api/v1/audit?action=hours_update", root, nil, &log)
	if len(log.Items) != 1 || log.Items[0].Target != "firenze" || !strings.Contains(log.Items[0].Detail, today) {
		t.Fatalf("audit: %+v", log.Items)
	}
}

// An admin's edit on one replica reaches another replica's closed-hours answers at once: the
// edit is announced through the events publisher (LISTEN/NOTIFY), well before the calendar's
// 5 s TTL would have made replica B read it again.
func TestEditedHolidayReachesOtherReplica(t *testing.T) {
	a := harness.Start(t, harness.Options{Dialect: store.Postgres})
	b := harness.Start(t, harness.Options{Dialect: store.Postgres, DatabaseURL: a.DatabaseURL})
	root := a.User(t, "root", store.RoleAdmin)
	today := time.Now().In(mustRome(t)).Format("2006-01-02")
	if answer := inboundSMS(t, b, "+393472228000", firenzeNumber, "buongiorno"); strings.Contains(answer, "<Message>") {
		t.Fatalf("replica B answered closed while open: %s", answer)
	}
	var cal calendarJSON
	if st := harness.API(t, "GET", a.URL+"/api/v1/comuni/firenze/hours", root, nil, &cal); st != 200 {
		t.Fatalf("get: %d", st)
	}
	body := map[string]any{"days": cal.Days, "open": cal.Open, "close": cal.Close,
		"holidays": []map[string]string{{"rule": today, "name": "Chiusura straordinaria"}}}
	if st := harness.API(t, "PUT", a.URL+"/api/v1/comuni/firenze/hours", root, body, nil); st != 200 {
		t.Fatalf("edit on replica A: %d", st)
	}
	edited := time.Now()
	// Under the TTL: only the announcement can have told replica B so soon.
	deadline := edited.Add(4 * time.Second)
	for i := 1; ; i++ {
		answer := inboundSMS(t, b, fmt.Sprintf("+3934722281%02d", i), firenzeNumber, "buongiorno")
		if strings.Contains(answer, "<Message>") {
			t.Logf("replica B followed the edit after %s", time.Since(edited).Round(100*time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("replica B did not follow the calendar edited on replica A within 4 s")
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// The desk pages keep the same scope as the API: a Firenze supervisor gets the 404 page for
// Empoli's answer and comune, 403 for shared answers and for saving hours, and a refused form
// keeps what was typed with the reason in Italian.
func TestDeskPagesScope(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	root := g.User(t, "root", store.RoleAdmin)
	empSup := g.User(t, "emp-sup", store.RoleSupervisor, "empoli")
	g.User(t, "fi-sup", store.RoleSupervisor, "firenze")
	g.User(t, "fi-op", store.RoleOperator, "firenze")
	var emp cannedJSON
	if st := harness.API(t, "POST", g.URL+"/api/v1/canned", empSup, map[string]any{"title": "Mercato di Empoli", "text_it": "Giovedì in piazza.", "comune": "empoli"}, &emp); st != 201 {
		t.Fatalf("create: %d", st)
	}
	var list cannedListJSON
	harness.API(t, "GET", g.URL+"/api/v1/canned", root, nil, &list)
	shared := list.Items[0].ID
	login := func(username string) *http.Client {
		c := pageClient(t)
		_, _, tok := pageGet(t, c, g.URL+"/login")
		resp, body := pagePost(t, c, g.URL+"/login", url.Values{"csrf": {tok}, "username": {username}, "password": {"password-" + username}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login %s: %d %s", username, resp.StatusCode, body)
		}
		return c
	}
	op := login("fi-op")
	if st, _, _ := pageGet(t, op, g.URL+"/admin/canned"); st != http.StatusForbidden {
		t.Errorf("an operator opens the canned answers' page: %d", st)
	}
	if st, _, _ := pageGet(t, op, g.URL+"/aiuto"); st != http.StatusOK {
		t.Errorf("an operator opens the help page: %d", st)
	}
	c := login("fi-sup")
	st, body, tok := pageGet(t, c, g.URL+"/admin/canned")
	if st != 200 || strings.Contains(body, "Mercato di Empoli") || !strings.Contains(body, "canned-form") {
		t.Fatalf("the list: %d, Empoli's answer shown: %v", st, strings.Contains(body, "Mercato di Empoli"))
	}
	for path, want := range map[string]int{"/admin/canned/" + emp.ID: 404, "/admin/canned/" + shared: 403, "/admin/hours?comune=empoli": 404, "/admin/hours": 200} {
		if st, _, _ := pageGet(t, c, g.URL+path); st != want {
			t.Errorf("GET %s: %d, want %d", path, st, want)
		}
	}
	if resp, _ := pagePost(t, c, g.URL+"/admin/canned/"+emp.ID+"/delete", url.Values{"csrf": {tok}}); resp.StatusCode != 404 {
		t.Errorf("deleting Empoli's answer: %d", resp.StatusCode)
	}
	if st := harness.API(t, "GET", g.URL+"/api/v1/canned/"+emp.ID, root, nil, nil); st != 200 {
		t.Fatalf("Empoli's answer is gone: %d", st)
	}
	if resp, _ := pagePost(t, c, g.URL+"/admin/hours/firenze", url.Values{"csrf": {tok}, "days": {"mon"}, "open": {"08:00"}, "close": {"09:00"}}); resp.StatusCode != 403 {
		t.Errorf("a supervisor saves hours: %d", resp.StatusCode)
	}
	resp, body := pagePost(t, c, g.URL+"/admin/canned", url.Values{"csrf": {tok}, "title": {"Titolo tenuto"}, "comune": {"firenze"}, "text_it": {"Gentile {cognome}"}})
	if resp.StatusCode != 400 || !strings.Contains(body, "Titolo tenuto") || !strings.Contains(body, "Segnaposto sconosciuto") {
		t.Errorf("a refused answer: %d, kept title %v", resp.StatusCode, strings.Contains(body, "Titolo tenuto"))
	}
	resp, _ = pagePost(t, c, g.URL+"/admin/canned", url.Values{"csrf": {tok}, "title": {"ZTL"}, "comune": {"firenze"}, "text_it": {"La ZTL di {comune}"}, "channels": {"sms"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create on the page: %d", resp.StatusCode)
	}
	var log auditListJSON
	harness.API(t, "GET", g.URL+"/api/v1/audit?actor=fi-sup&action=canned_create", root, nil, &log)
	if len(log.Items) != 1 {
		t.Errorf("the page's creation is not audited: %+v", log.Items)
	}
}
