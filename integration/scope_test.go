package integration

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
)

// TestListEndpointsStayInScope reads every list endpoint of the operator API as users scoped to
// Firenze, after Empoli contacts, staff, queues and audit entries exist: no answer may carry
// anything of Empoli. A Firenze admin used to read Empoli's audit entries (with citizens'
// numbers) and a Firenze supervisor every comune's staff. Every GET route under /api/v1 without
// a path parameter must be in the table, so a new list endpoint cannot skip this test.
func TestListEndpointsStayInScope(t *testing.T) {
	g := harness.Start(t, harness.Options{Extra: `
queues:
  - {id: coda-fi, name: Coda Firenze, comuni: [firenze], priority: 1}
  - {id: coda-emp, name: Coda Empoli, comuni: [empoli], priority: 1}
  - {id: generale, name: Generale, default: true}
`})
	root := g.User(t, "root", "admin")
	fiAdmin := g.User(t, "fi-admin", "admin", "firenze")
	fiSup := g.User(t, "fi-sup", "supervisor", "firenze")
	fiOp := g.User(t, "fi-op", "operator", "firenze")
	empOp := g.User(t, "emp-op", "operator", "empoli")
	g.User(t, "emp-sup", "supervisor", "empoli")

	const empPhone, fiPhone = "+393330000999", "+393470000111"
	inboundSMS(t, g, empPhone, empoliNumber, "segreto di empoli")
	inboundSMS(t, g, fiPhone, firenzeNumber, "ciao firenze")
	emp := newestContact(t, g, root, empPhone)
	fi := newestContact(t, g, root, fiPhone)
	// Audit entries of both comuni: assignments, and presence changes (entries without contact).
	for _, a := range []struct{ contact, user string }{{emp.ID, "emp-op"}, {fi.ID, "fi-op"}} {
		if code := harness.API(t, "POST", g.URL+"/api/v1/contacts/"+a.contact+"/assign", root, map[string]string{"username": a.user}, nil); code != 200 {
			t.Fatalf("assign to %s: %d", a.user, code)
		}
	}
	for _, tok := range []string{empOp, fiOp} {
		if code := harness.API(t, "PUT", g.URL+"/api/v1/me/status", tok, map[string]string{"status": "available"}, nil); code/100 != 2 {
			t.Fatalf("presence: %d", code)
		}
	}
	// The comuni's API keys, one of each comune.
	for _, cm := range []string{"empoli", "firenze"} {
		if code := harness.API(t, "POST", g.URL+"/api/v1/keys", root, map[string]string{"comune": cm, "name": "sito-" + cm[:2]}, nil); code != 201 {
			t.Fatalf("creating a key of %s: %d", cm, code)
		}
	}
	// Sanity: an unscoped admin does see Empoli in the audit log.
	if _, body := get(t, g.URL+"/api/v1/audit", root); !strings.Contains(body, emp.ID) || !strings.Contains(body, "emp-op") {
		t.Fatalf("the unscoped admin's audit log lacks Empoli entries: %s", body)
	}

	empoliMarks := []string{"empoli", "Empoli", "emp-op", "emp-sup", empPhone, "segreto", emp.ID, emp.Citizen.ID}
	for _, tc := range []struct {
		path   string
		tokens []string
		status int
		// mustHave proves the answer is not empty for a reason unrelated to scope.
		mustHave string
	}{
		{"/api/v1/contacts", []string{fiAdmin, fiSup, fiOp}, 200, "ciao firenze"},
		{"/api/v1/contacts?comune=empoli", []string{fiAdmin, fiOp}, 0, ""},
		{"/api/v1/contacts?q=segreto", []string{fiAdmin}, 200, ""},
		{"/api/v1/queues", []string{fiAdmin, fiSup, fiOp}, 200, "Coda Firenze"},
		{"/api/v1/offices?comune=firenze", []string{fiAdmin, fiOp}, 200, "pm@comune.fi.it"},
		{"/api/v1/offices?comune=empoli", []string{fiAdmin, fiOp}, 404, ""},
		{"/api/v1/offices", []string{fiOp}, 200, ""},
		{"/api/v1/canned", []string{fiAdmin, fiOp}, 200, ""},
		{"/api/v1/me", []string{fiAdmin, fiOp}, 200, "firenze"},
		{"/api/v1/users", []string{fiAdmin, fiSup}, 200, "fi-op"},
		{"/api/v1/audit", []string{fiAdmin}, 200, fi.ID},
		{"/api/v1/audit?actor=emp-op", []string{fiAdmin}, 200, ""},
		{"/api/v1/audit?contact_id=" + emp.ID, []string{fiAdmin}, 200, ""},
		// The comuni's notification API takes comune keys, never a user's token.
		{"/api/v1/alerts", []string{fiAdmin}, 401, ""},
		{"/api/v1/openapi.json", []string{fiAdmin}, 200, ""},
		{"/api/v1/reports/summary", []string{fiAdmin, fiSup}, 200, "firenze"},
		{"/api/v1/reports/summary?comune=empoli", []string{fiAdmin, fiSup}, 404, ""},
		{"/api/v1/reports/contacts.csv", []string{fiAdmin, fiSup}, 200, fi.ID},
		{"/api/v1/reports/staffing", []string{fiAdmin, fiSup}, 200, ""},
		{"/api/v1/keys", []string{fiAdmin, fiSup}, 200, "sito-fi"},
	} {
		for _, tok := range tc.tokens {
			code, body := get(t, g.URL+tc.path, tok)
			if tc.status != 0 && code != tc.status {
				t.Errorf("GET %s: %d, want %d: %.300s", tc.path, code, tc.status, body)
			}
			if tc.path == "/api/v1/openapi.json" {
				continue // the public document names no comune's data
			}
			for _, m := range empoliMarks {
				if strings.Contains(body, m) {
					t.Errorf("GET %s as a Firenze user shows %q: %.500s", tc.path, m, body)
				}
			}
			if !strings.Contains(body, tc.mustHave) {
				t.Errorf("GET %s lacks %q: %.300s", tc.path, tc.mustHave, body)
			}
		}
	}

	// The live event stream: an Empoli contact arriving before a Firenze one must not show.
	req, err := http.NewRequest("GET", g.URL+"/api/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+fiAdmin)
	resp, err := harness.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitLine(t, lines, ": connected", 10*time.Second)
	inboundSMS(t, g, empPhone, empoliNumber, "segreto di empoli, di nuovo")
	inboundSMS(t, g, fiPhone, firenzeNumber, "firenze ancora")
	deadline := time.After(15 * time.Second)
	for seen := false; !seen; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the event stream ended")
			}
			for _, m := range empoliMarks {
				if strings.Contains(l, m) {
					t.Fatalf("the Firenze admin's event stream shows %q: %s", m, l)
				}
			}
			seen = strings.Contains(l, fiPhone)
		case <-deadline:
			t.Fatal("the Firenze contact never came through the event stream")
		}
	}

	// Every GET list route of /api/v1 is in the table above (or is the event stream).
	covered := map[string]bool{"/api/v1/events": true, "/api/v1/contacts": true, "/api/v1/queues": true, "/api/v1/offices": true,
		"/api/v1/canned": true, "/api/v1/me": true, "/api/v1/users": true, "/api/v1/audit": true, "/api/v1/alerts": true,
		"/api/v1/openapi.json": true, "/api/v1/reports/summary": true, "/api/v1/reports/contacts.csv": true,
		"/api/v1/reports/staffing": true, "/api/v1/keys": true,
		// The signed-in operator's own softphone token: no one else's data to leak.
		"/api/v1/voice/token": true}
	for _, r := range g.G.Echo.Routes() {
		if r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/api/v1/") && !strings.Contains(r.Path, ":") && !covered[r.Path] {
			t.Errorf("GET %s is a list endpoint this scope test does not read", r.Path)
		}
	}
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, body := harness.Do(t, req)
	return resp.StatusCode, body
}

func waitLine(t *testing.T, lines <-chan string, want string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stream ended before %q", want)
			}
			if strings.Contains(l, want) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q within %v", want, within)
		}
	}
}
