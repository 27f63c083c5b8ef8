package twilioemu

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "0123456789abcdef0123456789abcdef"
	testFrom  = "+390550550"
	testTo    = "+393471234567"
)

// startEmu runs an emulator behind httptest and returns it with its base URL.
func startEmu(t *testing.T, opts Options) (*Emulator, string) {
	t.Helper()
	if opts.AccountSID == "" {
		opts.AccountSID = testSID
	}
	if opts.AuthToken == "" {
		opts.AuthToken = testToken
	}
	emu := New(opts)
	srv := httptest.NewServer(emu)
	t.Cleanup(func() {
		srv.Close()
		if err := emu.Close(); err != nil {
			t.Logf("close: %v", err)
		}
	})
	return emu, srv.URL
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func do(t *testing.T, method, rawURL, user, pass string, form url.Values) answer {
	t.Helper()
	a, err := tryDo(method, rawURL, user, pass, form)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// tryDo is do without a *testing.T, for goroutines other than the test's own: they report
// the error (t.Error) rather than stop the test.
func tryDo(method, rawURL, user, pass string, form url.Values) (answer, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		return answer{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			return answer{}, fmt.Errorf("answer is not a JSON object: %v: %s", err, raw)
		}
	}
	return a, nil
}

func messagesURL(base, sid string) string {
	return base + "/2010-04-01/Accounts/" + sid + "/Messages.json"
}

func send(t *testing.T, base string, form url.Values) answer {
	t.Helper()
	return do(t, http.MethodPost, messagesURL(base, testSID), testSID, testToken, form)
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// wantTwilioError checks Twilio's error JSON: status, code, message, more_info.
func wantTwilioError(t *testing.T, a answer, status, code int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("HTTP %d, want %d: %s", a.status, status, a.raw)
	}
	if got, _ := a.body["code"].(float64); int(got) != code {
		t.Fatalf("code %v, want %d: %s", a.body["code"], code, a.raw)
	}
	if got, _ := a.body["status"].(float64); int(got) != status {
		t.Fatalf("status field %v, want %d", a.body["status"], status)
	}
	if msg, _ := a.body["message"].(string); msg == "" {
		t.Fatalf("no message: %s", a.raw)
	}
	if mi, _ := a.body["more_info"].(string); !strings.HasSuffix(mi, "/errors/"+strconv.Itoa(code)) {
		t.Fatalf("more_info %q", mi)
	}
}

func TestCreateMessageSuccess(t *testing.T) {
	emu, base := startEmu(t, Options{})
	before := time.Now()
	a := send(t, base, form("To", testTo, "From", testFrom, "Body", "Ciao, è tutto a posto?", "StatusCallback", "http://127.0.0.1:1/cb"))
	if a.status != http.StatusCreated {
		t.Fatalf("HTTP %d: %s", a.status, a.raw)
	}
	sid, _ := a.body["sid"].(string)
	if !regexp.MustCompile(`^SM[0-9a-f]{32}$`).MatchString(sid) {
		t.Fatalf("sid %q", sid)
	}
	want := map[string]any{
		"account_sid": testSID, "status": "queued", "to": testTo, "from": testFrom,
		"body": "Ciao, è tutto a posto?", "num_segments": "1", "num_media": "0",
		"direction": "outbound-api", "api_version": "2010-04-01", "error_code": nil, "price": nil,
		"messaging_service_sid": nil, "date_sent": nil,
		"uri": "/2010-04-01/Accounts/" + testSID + "/Messages/" + sid + ".json",
	}
	for k, v := range want {
		if got, ok := a.body[k]; !ok || got != v {
			t.Errorf("%s = %#v, want %#v", k, got, v)
		}
	}
	created, err := time.Parse(time.RFC1123Z, a.body["date_created"].(string))
	if err != nil || created.Before(before.Add(-time.Second)) || created.After(time.Now().Add(time.Second)) {
		t.Errorf("date_created %v (%v)", a.body["date_created"], err)
	}
	if emu.Count() != 1 || emu.CountTo(testTo) != 1 || emu.CountTo("+393470000000") != 0 {
		t.Fatalf("count %d, to %d", emu.Count(), emu.CountTo(testTo))
	}
	m := emu.Messages()[0]
	if m.Sid != sid || m.Body != "Ciao, è tutto a posto?" || m.StatusCallback != "http://127.0.0.1:1/cb" || m.Received.Before(before) {
		t.Fatalf("recorded %+v", m)
	}

	// GET by sid, and the list.
	g := do(t, http.MethodGet, base+"/2010-04-01/Accounts/"+testSID+"/Messages/"+sid+".json", testSID, testToken, nil)
	if g.status != http.StatusOK || g.body["sid"] != sid || g.body["to"] != testTo {
		t.Fatalf("GET: %d %s", g.status, g.raw)
	}
	missing := do(t, http.MethodGet, base+"/2010-04-01/Accounts/"+testSID+"/Messages/SM00000000000000000000000000000000.json", testSID, testToken, nil)
	wantTwilioError(t, missing, http.StatusNotFound, 20404)
	l := do(t, http.MethodGet, messagesURL(base, testSID)+"?To="+url.QueryEscape(testTo), testSID, testToken, nil)
	if msgs, _ := l.body["messages"].([]any); l.status != http.StatusOK || len(msgs) != 1 {
		t.Fatalf("list: %d %s", l.status, l.raw)
	}
}

func TestCreateMessageVariants(t *testing.T) {
	service := "MG0123456789abcdef0123456789abcdef"
	_, base := startEmu(t, Options{})

	a := send(t, base, form("To", testTo, "MessagingServiceSid", service, "Body", "x"))
	if a.status != http.StatusCreated || a.body["status"] != "accepted" || a.body["from"] != nil || a.body["messaging_service_sid"] != service {
		t.Fatalf("messaging service: %d %s", a.status, a.raw)
	}
	a = send(t, base, form("To", testTo, "From", testFrom, "MediaUrl", "https://example.org/a.jpg", "MediaUrl", "https://example.org/b.jpg"))
	if sid, _ := a.body["sid"].(string); a.status != http.StatusCreated || !strings.HasPrefix(sid, "MM") || a.body["num_media"] != "2" {
		t.Fatalf("media: %d %s", a.status, a.raw)
	}
	a = send(t, base, form("To", testTo, "From", "Comune", "Body", strings.Repeat("È", 71)))
	if a.status != http.StatusCreated || a.body["num_segments"] != "2" {
		t.Fatalf("alphanumeric sender, UCS-2: %d %s", a.status, a.raw)
	}
	a = send(t, base, form("To", testTo, "From", testFrom, "Body", strings.Repeat("a", 1600)))
	if a.status != http.StatusCreated || a.body["num_segments"] != "11" {
		t.Fatalf("1600 chars: %d %s", a.status, a.raw)
	}
}

func TestCreateMessageRefusals(t *testing.T) {
	emu, base := startEmu(t, Options{
		OwnedNumbers:         []string{testFrom},
		MessagingServiceSIDs: []string{"MG0123456789abcdef0123456789abcdef"},
		Unsubscribed:         []string{"+393470000001"},
		FailNumbers:          map[string]int{"+393470000002": 21612},
	})
	long := strings.Repeat("a", 1601)
	cases := []struct {
		name string
		form url.Values
		code int
	}{
		{"no To", form("From", testFrom, "Body", "x"), 21604},
		{"To not a number", form("To", "abc", "From", testFrom, "Body", "x"), 21211},
		{"To too short", form("To", "+391", "From", testFrom, "Body", "x"), 21211},
		{"To without plus", form("To", "3471234567", "From", testFrom, "Body", "x"), 21211},
		{"no From nor service", form("To", testTo, "Body", "x"), 21603},
		{"From malformed", form("To", testTo, "From", "+39-not", "Body", "x"), 21212},
		{"From not owned", form("To", testTo, "From", "+390551111111", "Body", "x"), 21606},
		{"unknown service", form("To", testTo, "MessagingServiceSid", "MGffffffffffffffffffffffffffffffff", "Body", "x"), 21701},
		{"no Body nor media", form("To", testTo, "From", testFrom), 21602},
		{"Body too long", form("To", testTo, "From", testFrom, "Body", long), 21617},
		{"unsubscribed", form("To", "+393470000001", "From", testFrom, "Body", "x"), 21610},
		{"configured code", form("To", "+393470000002", "From", testFrom, "Body", "x"), 21612},
		{"magic invalid", form("To", "+15005550001", "From", testFrom, "Body", "x"), 21211},
		{"magic unsubscribed", form("To", "+15005550004", "From", testFrom, "Body", "x"), 21610},
		{"magic not mobile", form("To", "+15005550009", "From", testFrom, "Body", "x"), 21614},
		{"bad callback", form("To", testTo, "From", testFrom, "Body", "x", "StatusCallback", "not a url"), 21609},
		{"bad media", form("To", testTo, "From", testFrom, "MediaUrl", "ftp://x/y"), 21620},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantTwilioError(t, send(t, base, c.form), http.StatusBadRequest, c.code)
		})
	}
	if emu.Count() != 0 {
		t.Fatalf("%d refused messages were recorded", emu.Count())
	}
	if r := emu.Rejections(); r[21211] != 4 || r[21610] != 2 {
		t.Fatalf("rejections %v", r)
	}
	a := send(t, base, form("To", "+393470000001", "From", testFrom, "Body", "x"))
	if !strings.Contains(a.body["message"].(string), "unsubscribed") {
		t.Fatalf("21610 message %q", a.body["message"])
	}
	a = send(t, base, form("To", "+39", "From", testFrom, "Body", "x"))
	if a.body["message"] != "The 'To' number +39 is not a valid phone number." {
		t.Fatalf("21211 message %q", a.body["message"])
	}
}

func TestAuthentication(t *testing.T) {
	_, base := startEmu(t, Options{})
	ok := form("To", testTo, "From", testFrom, "Body", "x")
	cases := []struct {
		name, account, user, pass string
	}{
		{"no credentials", testSID, "", ""},
		{"wrong token", testSID, testSID, "wrongtoken"},
		{"wrong account", testSID, "AC11111111111111111111111111111111", testToken},
		{"another account's path", "AC11111111111111111111111111111111", testSID, testToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := do(t, http.MethodPost, messagesURL(base, c.account), c.user, c.pass, ok)
			wantTwilioError(t, a, http.StatusUnauthorized, 20003)
			if a.body["message"] != "Authenticate" || a.header.Get("WWW-Authenticate") == "" {
				t.Fatalf("%s %v", a.raw, a.header)
			}
		})
	}
	a := do(t, http.MethodGet, base+"/2010-04-01/Accounts/"+testSID+"/Conferences.json", testSID, testToken, nil)
	wantTwilioError(t, a, http.StatusNotFound, 20404)
	a = do(t, http.MethodDelete, messagesURL(base, testSID), testSID, testToken, nil)
	wantTwilioError(t, a, http.StatusMethodNotAllowed, 20004)
}

func TestOptionsValidate(t *testing.T) {
	bad := []Options{
		{AccountSID: "nope"},
		{CallbackDelay: -1},
		{RateLimit: -1},
		{CallbackWorkers: -1},
		{MessagingServiceSIDs: []string{"MGxyz"}},
	}
	for _, o := range bad {
		if err := o.Validate(); err == nil {
			t.Errorf("%+v: want error", o)
		}
	}
	if err := (Options{}).Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("New with invalid options did not panic")
		}
	}()
	New(Options{AccountSID: "nope"})
}

func FuzzCreateMessage(f *testing.F) {
	f.Add("To=%2B393471234567&From=%2B390550550&Body=ciao")
	f.Add("To=%2B393471234567&MessagingServiceSid=MG0123456789abcdef0123456789abcdef&MediaUrl=http://x/y")
	f.Add("To=abc&Body=")
	f.Add("To=%2B15005550004&From=Comune&Body=%E2%82%AC&StatusCallback=http%3A%2F%2F127.0.0.1%3A1%2F")
	f.Add("%zz=&&;;")
	emu := New(Options{AccountSID: testSID, AuthToken: testToken, CallbackDelay: time.Hour})
	f.Cleanup(func() { _ = emu.Close() })
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, messagesURL("", testSID), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(testSID, testToken)
		w := httptest.NewRecorder()
		emu.ServeHTTP(w, req)
		var got map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatalf("HTTP %d, body not JSON: %v", w.Code, err)
		}
		switch w.Code {
		case http.StatusCreated:
			if sid, _ := got["sid"].(string); len(sid) != 34 {
				t.Fatalf("created without a sid: %s", w.Body)
			}
		case http.StatusBadRequest:
			if code, _ := got["code"].(float64); code < 20000 {
				t.Fatalf("400 without a Twilio code: %s", w.Body)
			}
		default:
			t.Fatalf("HTTP %d for a form body: %s", w.Code, w.Body)
		}
	})
}
