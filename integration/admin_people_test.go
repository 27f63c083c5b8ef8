package integration

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sportello/sportello/integration/harness"
)

type adminUser struct {
	Username   string   `json:"username"`
	Role       string   `json:"role"`
	Comuni     []string `json:"comuni"`
	Categories []string `json:"categories"`
	Capacity   int      `json:"capacity"`
	Phone      string   `json:"phone"`
	Disabled   bool     `json:"disabled"`
}

type adminKey struct {
	ID         string  `json:"id"`
	Comune     string  `json:"comune"`
	Key        string  `json:"key"`
	Requests   int64   `json:"requests"`
	LastUsedAt *string `json:"last_used_at"`
	RevokedAt  *string `json:"revoked_at"`
}

type auditPage struct {
	Items []struct {
		Actor, Action, Target, Detail string
	} `json:"items"`
}

// TestAdminAPIScopeAndAudit: a Firenze supervisor manages Firenze's people and keys and
// nothing of Empoli's (404, and no audit entry for the refused attempts); what they do is in
// the audit log; a key's use is counted.
func TestAdminAPIScopeAndAudit(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	root := g.User(t, "root", "admin")
	fiSup := g.User(t, "fi-sup", "supervisor", "firenze")
	fiOp := g.User(t, "fi-op", "operator", "firenze")
	g.User(t, "emp-op", "operator", "empoli")
	api := func(method, path, tok string, body, out any) int {
		t.Helper()
		return harness.API(t, method, g.URL+path, tok, body, out)
	}

	// Empoli's operator does not exist for the Firenze supervisor.
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/users/emp-op", nil},
		{"PATCH", "/api/v1/users/emp-op", map[string]any{"capacity": 1}},
		{"PATCH", "/api/v1/users/emp-op", map[string]any{"disabled": true}},
		{"PATCH", "/api/v1/users/root", map[string]any{"name": "x"}},
	} {
		if code := api(c.method, c.path, fiSup, c.body, nil); code != http.StatusNotFound {
			t.Errorf("%s %s as the Firenze supervisor: %d, want 404", c.method, c.path, code)
		}
	}
	// Nor can they give Empoli, every comune, or a role above theirs.
	for _, body := range []map[string]any{
		{"username": "x-emp", "comuni": []string{"empoli"}},
		{"username": "x-all", "comuni": []string{}},
		{"username": "x-adm", "comuni": []string{"firenze"}, "role": "admin"},
	} {
		if code := api("POST", "/api/v1/users", fiSup, body, nil); code != http.StatusForbidden {
			t.Errorf("create %v as the Firenze supervisor: %d, want 403", body, code)
		}
	}
	if code := api("PATCH", "/api/v1/users/fi-op", fiSup, map[string]any{"comuni": []string{"firenze", "empoli"}}, nil); code != http.StatusForbidden {
		t.Errorf("giving fi-op Empoli: %d, want 403", code)
	}
	// An operator manages nobody.
	if code := api("POST", "/api/v1/users", fiOp, map[string]any{"username": "y", "comuni": []string{"firenze"}}, nil); code != http.StatusForbidden {
		t.Errorf("an operator creating a user: %d, want 403", code)
	}

	// Within Firenze they can: create (password made and shown once), edit, disable.
	var created struct {
		User     adminUser `json:"user"`
		Password string    `json:"password"`
	}
	if code := api("POST", "/api/v1/users", fiSup, map[string]any{"username": "fi-new", "name": "Nuova", "comuni": []string{"firenze"},
		"categories": []string{"contravvenzioni"}, "capacity": 3, "phone": "055 123456"}, &created); code != http.StatusCreated {
		t.Fatalf("create fi-new: %d", code)
	}
	if len(created.Password) < 16 || created.User.Role != "operator" || created.User.Phone != "+39055123456" || created.User.Capacity != 3 {
		t.Fatalf("created %+v with password %q", created.User, created.Password)
	}
	if code := api("POST", "/api/v1/users", fiSup, map[string]any{"username": "fi-new", "comuni": []string{"firenze"}}, nil); code != http.StatusConflict {
		t.Errorf("the same username again: %d, want 409", code)
	}
	if code := api("POST", "/api/v1/users", fiSup, map[string]any{"username": "fi-weak", "comuni": []string{"firenze"}, "password": "password123"}, nil); code != http.StatusBadRequest {
		t.Errorf("a common password: %d, want 400", code)
	}
	c := pageClient(t)
	login := func(user, pw string) int {
		_, _, tok := pageGet(t, c, g.URL+"/login")
		resp, _ := pagePost(t, c, g.URL+"/login", url.Values{"csrf": {tok}, "username": {user}, "password": {pw}})
		return resp.StatusCode
	}
	if code := login("fi-new", created.Password); code != http.StatusSeeOther {
		t.Fatalf("logging in with the made password: %d", code)
	}
	var after adminUser
	if code := api("PATCH", "/api/v1/users/fi-new", fiSup, map[string]any{"capacity": 7, "categories": []string{}, "disabled": true}, &after); code != 200 {
		t.Fatalf("edit and disable fi-new: %d", code)
	}
	if !after.Disabled || after.Capacity != 7 || len(after.Categories) != 0 {
		t.Errorf("after the edit: %+v", after)
	}
	if code := login("fi-new", created.Password); code != http.StatusUnauthorized {
		t.Errorf("a disabled user logging in: %d, want 401", code)
	}
	if code := api("PATCH", "/api/v1/users/fi-new", fiSup, map[string]any{"disabled": false}, nil); code != 200 {
		t.Errorf("enable: %d", code)
	}
	// A misspelt field, a new username or a weak password is refused and changes nothing.
	for _, body := range []map[string]any{{"capacita": 2}, {"username": "altro"}, {"password": "qwertyuiop"}, {"capacity": 0}} {
		if code := api("PATCH", "/api/v1/users/fi-new", fiSup, body, nil); code != http.StatusBadRequest {
			t.Errorf("PATCH %v: %d, want 400", body, code)
		}
	}
	if code := api("PATCH", "/api/v1/users/fi-new", fiSup, map[string]any{"password": "Tramvia-Peretola-7"}, nil); code != 200 {
		t.Errorf("setting a chosen password: %d", code)
	}
	if code := login("fi-new", "Tramvia-Peretola-7"); code != http.StatusSeeOther {
		t.Errorf("logging in with the chosen password: %d", code)
	}

	// Keys: Empoli's is invisible and untouchable to the Firenze supervisor.
	var empKey, fiKey adminKey
	if code := api("POST", "/api/v1/keys", root, map[string]string{"comune": "empoli", "name": "protezione civile"}, &empKey); code != http.StatusCreated || !strings.HasPrefix(empKey.Key, "spk_") {
		t.Fatalf("root creating an Empoli key: %d %+v", code, empKey)
	}
	var list struct{ Items []adminKey }
	if code := api("GET", "/api/v1/keys", fiSup, nil, &list); code != 200 {
		t.Fatalf("list keys: %d", code)
	}
	for _, k := range list.Items {
		if k.Comune != "firenze" {
			t.Errorf("the Firenze supervisor sees a key of %s", k.Comune)
		}
	}
	if code := api("DELETE", "/api/v1/keys/"+empKey.ID, fiSup, nil, nil); code != http.StatusNotFound {
		t.Errorf("revoking Empoli's key as the Firenze supervisor: %d, want 404", code)
	}
	if code := api("POST", "/api/v1/keys", fiSup, map[string]string{"comune": "empoli"}, nil); code != http.StatusForbidden {
		t.Errorf("creating an Empoli key as the Firenze supervisor: %d, want 403", code)
	}
	if code := api("POST", "/api/v1/keys", fiSup, map[string]string{"comune": "firenze", "name": "sito"}, &fiKey); code != http.StatusCreated {
		t.Fatalf("creating a Firenze key: %d", code)
	}
	for i := 0; i < 2; i++ {
		if code := api("GET", "/api/v1/alerts", fiKey.Key, nil, nil); code != 200 {
			t.Fatalf("the new key on the alerts API: %d", code)
		}
	}
	if code := api("GET", "/api/v1/keys", fiSup, nil, &list); code != 200 {
		t.Fatal(code)
	}
	for _, k := range list.Items {
		if k.ID == fiKey.ID && (k.Requests != 2 || k.LastUsedAt == nil) {
			t.Errorf("the key's use: %d requests, last used %v; want 2 and a time", k.Requests, k.LastUsedAt)
		}
	}
	if code := api("DELETE", "/api/v1/keys/"+fiKey.ID, fiSup, nil, nil); code != 200 {
		t.Fatalf("revoking the Firenze key: %d", code)
	}
	if code := api("GET", "/api/v1/alerts", fiKey.Key, nil, nil); code != http.StatusUnauthorized {
		t.Errorf("a revoked key: %d, want 401", code)
	}
	if code := api("GET", "/api/v1/alerts", empKey.Key, nil, nil); code != 200 {
		t.Errorf("Empoli's key after the refused revocation: %d, want 200", code)
	}

	// The audit log tells who did each change, and nothing of the refused attempts.
	var log auditPage
	if code := api("GET", "/api/v1/audit?limit=500", root, nil, &log); code != 200 {
		t.Fatal(code)
	}
	want := map[string]string{"user_create": "fi-new", "user_update": "fi-new", "user_disable": "fi-new", "user_enable": "fi-new",
		"apikey_create": fiKey.ID, "apikey_revoke": fiKey.ID}
	for _, e := range log.Items {
		if e.Target == "emp-op" || e.Target == empKey.ID && e.Action == "apikey_revoke" || strings.HasPrefix(e.Target, "x-") {
			t.Errorf("a refused change was audited: %+v", e)
		}
		if tg, ok := want[e.Action]; ok && tg == e.Target && e.Actor == "fi-sup" {
			delete(want, e.Action)
		}
	}
	if len(want) > 0 {
		t.Errorf("no audit entry by fi-sup for %v in %+v", want, log.Items)
	}
}

// TestPasswordChangeEndsOtherSessions: changing one's password keeps the session it was done
// from, ends every other, and refuses short and common passwords.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	tok := g.User(t, "mario", "operator", "firenze")
	const old = "password-mario"
	a, b := pageClient(t), pageClient(t)
	for _, c := range []*http.Client{a, b} {
		_, _, csrf := pageGet(t, c, g.URL+"/login")
		if resp, _ := pagePost(t, c, g.URL+"/login", url.Values{"csrf": {csrf}, "username": {"mario"}, "password": {old}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login: %d", resp.StatusCode)
		}
	}
	for _, c := range []struct {
		body map[string]string
		code int
	}{
		{map[string]string{"current": old, "new": "corta"}, 400},
		{map[string]string{"current": old, "new": "qwertyuiop"}, 400},
		{map[string]string{"current": "sbagliata-davvero", "new": "Tramvia-Peretola-7"}, 400},
	} {
		var e struct{ Error struct{ Code string } }
		if code := harness.API(t, "POST", g.URL+"/api/v1/me/password", tok, c.body, &e); code != c.code {
			t.Errorf("%v: %d %s, want %d", c.body, code, e.Error.Code, c.code)
		}
	}
	// Still both sessions: nothing changed.
	for i, c := range []*http.Client{a, b} {
		if code, _, _ := pageGet(t, c, g.URL+"/account"); code != 200 {
			t.Fatalf("session %d before the change: %d", i, code)
		}
	}
	_, _, csrf := pageGet(t, a, g.URL+"/account")
	resp, body := pagePost(t, a, g.URL+"/account/password", url.Values{"csrf": {csrf}, "current": {old}, "new": {"Tramvia-Peretola-7"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("changing the password: %d %s", resp.StatusCode, body)
	}
	if code, _, _ := pageGet(t, a, g.URL+"/account"); code != 200 {
		t.Errorf("the session that changed the password: %d, want 200", code)
	}
	code, _, _ := pageGet(t, b, g.URL+"/account")
	if code != http.StatusSeeOther {
		t.Errorf("the other session after the change: %d, want 303 to /login", code)
	}
	// The script's API token keeps working; the new password logs in, the old one does not.
	if code := harness.API(t, "GET", g.URL+"/api/v1/me", tok, nil, nil); code != 200 {
		t.Errorf("the API token after the change: %d", code)
	}
	for pw, want := range map[string]int{old: 401, "Tramvia-Peretola-7": 303} {
		c := pageClient(t)
		_, _, csrf := pageGet(t, c, g.URL+"/login")
		if resp, _ := pagePost(t, c, g.URL+"/login", url.Values{"csrf": {csrf}, "username": {"mario"}, "password": {pw}}); resp.StatusCode != want {
			t.Errorf("login with %q: %d, want %d", pw, resp.StatusCode, want)
		}
	}
	var log auditPage
	root := g.User(t, "root", "admin")
	harness.API(t, "GET", g.URL+"/api/v1/audit?action=password_change", root, nil, &log)
	if len(log.Items) != 1 || log.Items[0].Actor != "mario" {
		t.Errorf("password_change audit entries: %+v", log.Items)
	}
}

// TestAccountPreferencesApplyAtLogin: the language and the presence chosen on /account are
// what the next login starts with.
func TestAccountPreferencesApplyAtLogin(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	tok := g.User(t, "lucia", "operator", "firenze")
	login := func() *http.Client {
		c := pageClient(t)
		_, _, csrf := pageGet(t, c, g.URL+"/login")
		if resp, _ := pagePost(t, c, g.URL+"/login", url.Values{"csrf": {csrf}, "username": {"lucia"}, "password": {"password-lucia"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login: %d", resp.StatusCode)
		}
		return c
	}
	c := login()
	_, page, csrf := pageGet(t, c, g.URL+"/account")
	if !strings.Contains(page, `<html lang="it">`) {
		t.Fatalf("the account page before: not Italian")
	}
	if resp, body := pagePost(t, c, g.URL+"/account/preferences", url.Values{"csrf": {csrf}, "lang": {"fr"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("French: %d %.200s", resp.StatusCode, body)
	}
	if resp, _ := pagePost(t, c, g.URL+"/account/preferences", url.Values{"csrf": {csrf}, "lang": {"en"}, "default_presence": {"available"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving preferences: %d", resp.StatusCode)
	}
	var me struct{ Presence string }
	harness.API(t, "GET", g.URL+"/api/v1/me", tok, nil, &me)
	if me.Presence != "offline" {
		t.Fatalf("presence before the next login: %q", me.Presence)
	}
	c2 := login()
	if _, page, _ := pageGet(t, c2, g.URL+"/account"); !strings.Contains(page, `<html lang="en">`) {
		t.Errorf("after login with English chosen: not English")
	}
	harness.API(t, "GET", g.URL+"/api/v1/me", tok, nil, &me)
	if me.Presence != "available" {
		t.Errorf("presence after the login: %q, want available", me.Presence)
	}
}

// TestPasswordLink: a supervisor creates a person with a set-password link instead of a
// password; the link works once, without a session, and the policy applies.
func TestPasswordLink(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.User(t, "capo", "supervisor", "firenze")
	sup := pageClient(t)
	_, _, csrf := pageGet(t, sup, g.URL+"/login")
	if resp, _ := pagePost(t, sup, g.URL+"/login", url.Values{"csrf": {csrf}, "username": {"capo"}, "password": {"password-capo"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	_, _, csrf = pageGet(t, sup, g.URL+"/admin/users")
	resp, page := pagePost(t, sup, g.URL+"/admin/users", url.Values{"csrf": {csrf}, "username": {"nuovo"}, "comuni": {"firenze"}, "link": {"1"}})
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create with a link: %d %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	_, rest, ok := strings.Cut(page, "/password/set?token=")
	if !ok {
		t.Fatalf("no link on the page: %.500s", page)
	}
	token, _, _ := strings.Cut(rest, "<")
	link := g.URL + "/password/set?token=" + token
	anon := pageClient(t)
	code, form, csrf := pageGet(t, anon, link)
	if code != 200 || !strings.Contains(form, "nuovo") {
		t.Fatalf("the link's form: %d", code)
	}
	if code, _, _ := pageGet(t, anon, g.URL+"/password/set?token=x"+token); code != http.StatusNotFound {
		t.Errorf("a wrong token: %d, want 404", code)
	}
	tokenValue, _ := url.QueryUnescape(token)
	if resp, _ := pagePost(t, anon, g.URL+"/password/set", url.Values{"csrf": {csrf}, "token": {tokenValue}, "new": {"password1"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a weak password through the link: %d, want 400", resp.StatusCode)
	}
	if resp, _ := pagePost(t, anon, g.URL+"/password/set", url.Values{"csrf": {csrf}, "token": {tokenValue}, "new": {"Tramvia-Peretola-7"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("setting the password through the link: %d", resp.StatusCode)
	}
	if code, _, _ := pageGet(t, anon, link); code != http.StatusNotFound {
		t.Errorf("the link a second time: %d, want 404", code)
	}
	_, _, csrf = pageGet(t, anon, g.URL+"/login")
	if resp, _ := pagePost(t, anon, g.URL+"/login", url.Values{"csrf": {csrf}, "username": {"nuovo"}, "password": {"Tramvia-Peretola-7"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login with the password set through the link: %d", resp.StatusCode)
	}
}
