package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/sportello/sportello/adapters/twilio"
	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/integration/twilioemu"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

const (
	firenzeNumber = "+390552768000"
	empoliNumber  = "+39057175761"
	sharedNumber  = "+39055055"
)

var smsSeq struct {
	sync.Mutex
	n int
}

func newSid(prefix string) string {
	smsSeq.Lock()
	defer smsSeq.Unlock()
	smsSeq.n++
	return fmt.Sprintf("%s%032d", prefix, smsSeq.n+int(time.Now().UnixNano()%1e9)*1000)
}

// inboundSMS posts a signed SMS webhook and returns the TwiML answer.
func inboundSMS(t *testing.T, gw *harness.Gateway, from, to, body string) string {
	t.Helper()
	resp, text := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", harness.SMSForm(newSid("SM"), from, to, body))
	if resp.StatusCode != 200 {
		t.Fatalf("sms webhook: %d %s", resp.StatusCode, text)
	}
	return text
}

// newestContact is the newest contact an admin token sees from a number.
func newestContact(t *testing.T, gw *harness.Gateway, token, from string) channels.Contact {
	t.Helper()
	var list contactList
	if st := harness.API(t, "GET", gw.URL+"/api/v1/contacts?q="+url.QueryEscape(from), token, nil, &list); st != 200 || len(list.Items) == 0 {
		t.Fatalf("no contact from %s (%d)", from, st)
	}
	return list.Items[0]
}

// expectError calls the API and checks the status and error code.
func expectError(t *testing.T, method, u, token string, body any, status int, code string) {
	t.Helper()
	var e apiError
	if st := harness.API(t, method, u, token, body, &e); st != status || (code != "" && e.Error.Code != code) {
		t.Fatalf("%s %s: got %d %q (%s), want %d %q", method, u, st, e.Error.Code, e.Error.Message, status, code)
	}
}

func TestOperatorAPIRolesScopeAndBadInput(t *testing.T) {
	eachDialect(t, testOperatorAPIRoles)
}

func testOperatorAPIRoles(t *testing.T, d store.Dialect) {
	gw := harness.Start(t, harness.Options{Dialect: d})
	ownEveryNumber(t, gw)
	admin := gw.User(t, "admin1", store.RoleAdmin)
	sup := gw.User(t, "sup", store.RoleSupervisor)
	op := gw.User(t, "op", store.RoleOperator)
	emp := gw.User(t, "emp", store.RoleOperator, "empoli")
	base := gw.URL + "/api/v1"

	inboundSMS(t, gw, "+393471110001", firenzeNumber, "Ho ricevuto una multa per eccesso di velocità")
	c := newestContact(t, gw, admin, "+393471110001")
	if str(c.Comune) != "firenze" || str(c.Category) != "contravvenzioni" || str(c.Queue) != "multe" || c.Status != "open" {
		t.Fatalf("routed contact: comune %s category %s queue %s status %s", str(c.Comune), str(c.Category), str(c.Queue), c.Status)
	}
	cu := base + "/contacts/" + c.ID

	// /me for every role.
	for tok, role := range map[string]string{admin: "admin", sup: "supervisor", op: "operator", emp: "operator"} {
		var me struct {
			Role     string   `json:"role"`
			Comuni   []string `json:"comuni"`
			Presence string   `json:"presence"`
		}
		if st := harness.API(t, "GET", base+"/me", tok, nil, &me); st != 200 || me.Role != role || me.Presence != "offline" {
			t.Fatalf("/me: %d %+v", st, me)
		}
	}
	expectError(t, "GET", base+"/me", "", nil, 401, "unauthorized")

	// An operator limited to Empoli: every action on a Firenze contact is 404.
	expectError(t, "GET", cu, emp, nil, 404, "not_found")
	expectError(t, "POST", cu+"/reply", emp, map[string]string{"body": "x"}, 404, "not_found")
	expectError(t, "POST", cu+"/claim", emp, nil, 404, "not_found")
	expectError(t, "POST", cu+"/assign", emp, map[string]string{"username": "emp"}, 404, "not_found")
	expectError(t, "POST", cu+"/resolve", emp, map[string]string{"outcome": "first_level"}, 404, "not_found")
	expectError(t, "GET", base+"/citizens/"+c.Citizen.ID, emp, nil, 404, "not_found")

	// Assignment rules.
	expectError(t, "POST", cu+"/assign", op, map[string]string{"username": "sup"}, 403, "forbidden")
	expectError(t, "POST", cu+"/assign", sup, map[string]string{"username": "emp"}, 400, "out_of_scope")
	expectError(t, "POST", cu+"/assign", sup, map[string]string{"username": "ghost"}, 400, "unknown_user")
	var got channels.Contact
	if st := harness.API(t, "POST", cu+"/claim", op, nil, &got); st != 200 || str(got.Assignee) != "op" || got.Status != "assigned" {
		t.Fatalf("claim: %d %s %s", st, str(got.Assignee), got.Status)
	}
	expectError(t, "POST", cu+"/claim", sup, nil, 409, "conflict")
	if st := harness.API(t, "POST", cu+"/assign", sup, map[string]string{"username": "op"}, &got); st != 200 {
		t.Fatalf("supervisor assign: %d", st)
	}

	// Replies.
	expectError(t, "POST", cu+"/reply", op, map[string]string{"body": "  "}, 400, "empty_body")
	expectError(t, "POST", cu+"/reply", op, "not an object", 400, "invalid_json")
	var msg channels.Message
	if st := harness.API(t, "POST", cu+"/reply", op, map[string]string{"body": "Può fare ricorso entro 60 giorni."}, &msg); st != 202 ||
		msg.Status != "queued" || msg.To != "+393471110001" || msg.From != firenzeNumber || msg.Author != "op" {
		t.Fatalf("reply: %d %+v", st, msg)
	}
	waitUntil(t, 20*time.Second, "the reply to leave the queue", func() bool {
		var full channels.Contact
		harness.API(t, "GET", cu, op, nil, &full)
		return len(full.Messages) == 2 && (full.Messages[1].Status == "sent" || full.Messages[1].Status == "delivered")
	})

	// A caller from a landline, with no other address: unreachable.
	resp, _ := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/voice", harness.CallForm(newSid("CA"), "+390557654321", firenzeNumber, "ringing"))
	if resp.StatusCode != 200 {
		t.Fatalf("voice webhook: %d", resp.StatusCode)
	}
	call := newestContact(t, gw, admin, "+390557654321")
	expectError(t, "POST", base+"/contacts/"+call.ID+"/reply", op, map[string]string{"body": "La richiamiamo"}, 400, "unreachable")

	// Resolution.
	expectError(t, "POST", cu+"/resolve", op, map[string]string{"outcome": "done"}, 400, "invalid_outcome")
	expectError(t, "POST", cu+"/resolve", op, map[string]string{"outcome": "transferred_phone", "office": "anagrafe"}, 400, "unknown_office")
	if st := harness.API(t, "GET", cu, op, nil, &got); st != 200 || got.Status != "assigned" {
		t.Fatalf("a refused resolution changed the contact: %s", got.Status)
	}
	if st := harness.API(t, "POST", cu+"/resolve", op, map[string]string{"outcome": "transferred_phone", "office": "polizia-municipale",
		"category": "contravvenzioni", "note": "passata alla PM"}, &got); st != 200 || got.Status != "resolved" ||
		str(got.Outcome) != "transferred_phone" || str(got.Office) != "polizia-municipale" || got.Note != "passata alla PM" {
		t.Fatalf("resolve: %d %+v", st, got)
	}
	expectError(t, "POST", cu+"/resolve", op, map[string]string{"outcome": "first_level"}, 409, "conflict")
	// The citizen writes again: the contact reopens.
	inboundSMS(t, gw, "+393471110001", firenzeNumber, "e se non pago?")
	if harness.API(t, "GET", cu, op, nil, &got); got.Status != "open" || got.Outcome != nil {
		t.Fatalf("not reopened: %s", got.Status)
	}

	// Queues and presence.
	var queues []map[string]any
	if st := harness.API(t, "GET", base+"/queues", op, nil, &queues); st != 200 || len(queues) != 3 {
		t.Fatalf("queues: %d %v", st, queues)
	}
	expectError(t, "PUT", base+"/me/status", op, map[string]string{"status": "busy"}, 400, "invalid_status")
	if st := harness.API(t, "PUT", base+"/me/status", op, map[string]string{"status": "available"}, nil); st != 200 {
		t.Fatalf("presence: %d", st)
	}
	// Becoming available drained the waiting contact to op.
	if harness.API(t, "GET", cu, op, nil, &got); str(got.Assignee) != "op" {
		t.Fatalf("backlog not drained: %s", str(got.Assignee))
	}

	// Users (supervisors) and the audit log (admins).
	expectError(t, "GET", base+"/users", op, nil, 403, "forbidden")
	var users struct {
		Items []store.OperatorState `json:"items"`
	}
	if st := harness.API(t, "GET", base+"/users", sup, nil, &users); st != 200 || len(users.Items) != 4 {
		t.Fatalf("users: %d %d", st, len(users.Items))
	}
	for _, u := range users.Items {
		if u.Username == "op" && (u.Presence != "available" || u.Open != 2) {
			t.Fatalf("op in users: %+v", u)
		}
	}
	expectError(t, "GET", base+"/audit", sup, nil, 403, "forbidden")
	var audit struct {
		Items []store.AuditEntry `json:"items"`
	}
	if st := harness.API(t, "GET", base+"/audit?limit=100", admin, nil, &audit); st != 200 {
		t.Fatalf("audit: %d", st)
	}
	actions := map[string]int{}
	for _, e := range audit.Items {
		actions[e.Action]++
	}
	for _, a := range []string{"claim", "assign", "reply", "resolve", "presence"} {
		if actions[a] == 0 {
			t.Fatalf("audit log lacks %q: %v", a, actions)
		}
	}

	// Citizens: read, merge, self-merge.
	inboundSMS(t, gw, "+393471110002", firenzeNumber, "una domanda sul permesso")
	other := newestContact(t, gw, admin, "+393471110002")
	cz := base + "/citizens/" + c.Citizen.ID
	expectError(t, "POST", cz+"/merge", op, map[string]string{"citizen_id": c.Citizen.ID}, 400, "self_merge")
	var citizen channels.Citizen
	if st := harness.API(t, "POST", cz+"/merge", op, map[string]string{"citizen_id": other.Citizen.ID}, &citizen); st != 200 ||
		len(citizen.Identities) != 2 || len(citizen.Contacts) != 2 {
		t.Fatalf("merge: %d %+v", st, citizen)
	}
	expectError(t, "GET", base+"/citizens/"+other.Citizen.ID, op, nil, 404, "not_found")
	// An erased citizen takes part in no merge, either way.
	inboundSMS(t, gw, "+393471110004", firenzeNumber, "cancellatemi")
	erased := newestContact(t, gw, admin, "+393471110004")
	if st := harness.API(t, "POST", base+"/citizens/"+erased.Citizen.ID+"/erase", admin, map[string]string{"reason": "art. 17"}, nil); st != 200 {
		t.Fatalf("erase: %d", st)
	}
	expectError(t, "POST", cz+"/merge", op, map[string]string{"citizen_id": erased.Citizen.ID}, 409, "citizen_erased")
	expectError(t, "POST", base+"/citizens/"+erased.Citizen.ID+"/merge", op, map[string]string{"citizen_id": c.Citizen.ID}, 409, "citizen_erased")

	// A contact on the shared number with no comune in sight: to be decided by an operator.
	inboundSMS(t, gw, "+393471110003", sharedNumber, "una domanda generica")
	undecided := newestContact(t, gw, admin, "+393471110003")
	if undecided.Comune != nil {
		t.Fatalf("comune decided without a clue: %s", str(undecided.Comune))
	}
	ru := base + "/contacts/" + undecided.ID + "/route"
	// The shared number serves every comune (no shared_comuni): the Empoli operator sees it too.
	if st := harness.API(t, "GET", base+"/contacts/"+undecided.ID, emp, nil, &got); st != 200 {
		t.Fatalf("an operator of a comune the shared number serves cannot see the undecided contact: %d", st)
	}
	expectError(t, "POST", ru, op, map[string]string{"comune": "atlantide"}, 400, "unknown_comune")
	if st := harness.API(t, "POST", ru, op, map[string]string{"comune": "empoli"}, &got); st != 200 || str(got.Comune) != "empoli" {
		t.Fatalf("route: %d %s", st, str(got.Comune))
	}
	if st := harness.API(t, "GET", base+"/contacts/"+undecided.ID, emp, nil, &got); st != 200 {
		t.Fatalf("the Empoli operator cannot see the contact routed to Empoli: %d", st)
	}

	// A deleted user's token stops working.
	if err := gw.G.Store.DeleteUser(context.Background(), "emp"); err != nil {
		t.Fatal(err)
	}
	expectError(t, "GET", base+"/me", emp, nil, 401, "unauthorized")
}

func TestOperatorAPISessionCookieNeedsCSRF(t *testing.T) {
	gw := harness.Start(t, harness.Options{})
	gw.User(t, "op", store.RoleOperator)
	ctx := context.Background()
	u, err := gw.G.Store.UserByUsername(ctx, "op")
	if err != nil {
		t.Fatal(err)
	}
	session, err := gw.G.Store.CreateToken(ctx, u.ID, store.TokenSession, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, csrfCookie, csrfHeader string) int {
		req, _ := http.NewRequest(method, gw.URL+path, strings.NewReader(`{"status":"away"}`))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(&http.Cookie{Name: "sportello_session", Value: session})
		if csrfCookie != "" {
			req.AddCookie(&http.Cookie{Name: "sportello_csrf", Value: csrfCookie})
		}
		if csrfHeader != "" {
			req.Header.Set("X-CSRF-Token", csrfHeader)
		}
		resp, _ := harness.Do(t, req)
		return resp.StatusCode
	}
	if st := do("GET", "/api/v1/me", "", ""); st != 200 {
		t.Fatalf("GET by cookie: %d", st)
	}
	if st := do("PUT", "/api/v1/me/status", "", ""); st != 403 {
		t.Fatalf("PUT by cookie without a token: %d", st)
	}
	if st := do("PUT", "/api/v1/me/status", "tok-a", "tok-b"); st != 403 {
		t.Fatalf("PUT by cookie with a stale token: %d", st)
	}
	// A value planted in the CSRF cookie (by a sibling subdomain) and repeated in the header
	// used to pass the double submit: the token must be the session's own.
	planted := strings.Repeat("p", 43)
	if st := do("PUT", "/api/v1/me/status", planted, planted); st != 403 {
		t.Fatalf("PUT by cookie with a planted CSRF cookie and header: %d", st)
	}
	if st := do("PUT", "/api/v1/me/status", "", auth.SessionCSRF(session)); st != 200 {
		t.Fatalf("PUT by cookie with the session's token: %d", st)
	}
	if err := gw.G.Store.RevokeToken(ctx, session); err != nil {
		t.Fatal(err)
	}
	if st := do("GET", "/api/v1/me", "", ""); st != 401 {
		t.Fatalf("ended session: %d", st)
	}
}

func TestRoutingAtIngestAndClosedHoursSMS(t *testing.T) {
	today := time.Now().In(mustRome(t))
	days := fmt.Sprintf(`  holidays: ["%s", "%s", "%s"]`, today.AddDate(0, 0, -1).Format("2006-01-02"), today.Format("2006-01-02"), today.AddDate(0, 0, 1).Format("2006-01-02"))
	yaml := strings.Replace(harness.BaseYAML, `  close: "23:59"`, `  close: "23:59"`+"\n"+days, 1)
	gw := harness.Start(t, harness.Options{Replace: yaml})
	admin := gw.User(t, "admin1", store.RoleAdmin)

	// A shared number: the comune named in the text decides; the centre is closed (a holiday).
	answer := inboundSMS(t, gw, "+393472220001", sharedNumber, "Domani c'è il blocco del traffico a Empoli?")
	if !strings.Contains(answer, "<Message>") || !strings.Contains(answer, "chiusi") {
		t.Fatalf("no closed-hours answer: %s", answer)
	}
	c := newestContact(t, gw, admin, "+393472220001")
	if str(c.Comune) != "empoli" || str(c.Queue) != "traffico" || str(c.Category) != "blocco-traffico" {
		t.Fatalf("routing: %s %s %s", str(c.Comune), str(c.Queue), str(c.Category))
	}
	var full channels.Contact
	harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+c.ID, admin, nil, &full)
	if len(full.Messages) != 2 || full.Messages[1].Direction != "outbound" || !strings.Contains(answer, full.Messages[1].Body[:20]) {
		t.Fatalf("the automatic answer is not on the thread: %+v", full.Messages)
	}
	// Again in the same closed period: no second answer.
	if again := inboundSMS(t, gw, "+393472220001", sharedNumber, "e dopodomani?"); strings.Contains(again, "<Message>") {
		t.Fatalf("answered twice: %s", again)
	}
	// English gets English; the citizen's last known comune decides on the shared number.
	answer = inboundSMS(t, gw, "+393472220002", empoliNumber, "Hello, I have a question about my parking ticket, thanks")
	if !strings.Contains(answer, "we are closed") {
		t.Fatalf("English answer: %s", answer)
	}
	inboundSMS(t, gw, "+393472220002", sharedNumber, "any news?")
	var list contactList
	harness.API(t, "GET", gw.URL+"/api/v1/contacts?q=%2B393472220002", admin, nil, &list)
	for _, ct := range list.Items {
		if str(ct.Comune) != "empoli" {
			t.Fatalf("last known comune not used: %+v", ct.Comune)
		}
	}
}

func mustRome(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// rewriteTransport sends every request to target, whatever host it names (the emulator calls
// the public URL; the gateway listens on 127.0.0.1).
type rewriteTransport struct{ target string }

func (r rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	u, _ := url.Parse(r.target)
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = u.Scheme, u.Host
	return http.DefaultTransport.RoundTrip(req)
}

// ownEveryNumber points the gateway's SMS sender at an emulator that owns every number: replies
// leave from the number the citizen texted (a comune's Twilio number), which the harness's own
// emulator does not list among its owned numbers.
func ownEveryNumber(t *testing.T, gw *harness.Gateway) *twilioemu.Emulator {
	t.Helper()
	emu := twilioemu.New(twilioemu.Options{AccountSID: harness.AccountSID, AuthToken: harness.AuthToken,
		CallbackDelay: 50 * time.Millisecond, DeliveryDelay: 50 * time.Millisecond,
		CallbackClient: &http.Client{Timeout: 5 * time.Second, Transport: rewriteTransport{target: gw.URL}}})
	t.Cleanup(func() { _ = emu.Close() })
	emuURL, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := twilio.NewSender(twilio.SenderOptions{AccountSID: harness.AccountSID, AuthToken: harness.AuthToken, APIBaseURL: emuURL,
		From: harness.TwilioFrom, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	gw.G.Senders[channels.SMS] = sender
	return emu
}

func TestReplyThroughTwilioEmulatorSurvivesOutage(t *testing.T) {
	gw := harness.Start(t, harness.Options{})
	emu := ownEveryNumber(t, gw)
	op := gw.User(t, "op", store.RoleOperator)
	inboundSMS(t, gw, "+393473330001", firenzeNumber, "quando riapre la ZTL?")
	c := newestContact(t, gw, op, "+393473330001")

	emu.SetOutage(503, 0)
	var msg channels.Message
	if st := harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+c.ID+"/reply", op, map[string]string{"body": "La ZTL riapre alle 20."}, &msg); st != 202 {
		t.Fatalf("reply: %d", st)
	}
	thread := func() channels.Message {
		var full channels.Contact
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+c.ID, op, nil, &full)
		return full.Messages[len(full.Messages)-1]
	}
	waitUntil(t, 20*time.Second, "a failed attempt during the outage", func() bool { return strings.HasPrefix(thread().Error, "retrying") })
	if m := thread(); m.Status != "queued" || emu.Count() != 0 {
		t.Fatalf("during the outage: %+v, emulator has %d", m, emu.Count())
	}
	emu.EndOutage()
	waitUntil(t, 20*time.Second, "delivery after the outage", func() bool { return thread().Status == "delivered" })
	m := thread()
	em, ok := emu.Message(m.ExternalID)
	if !ok || em.Body != "La ZTL riapre alle 20." || em.To != "+393473330001" || em.From != firenzeNumber || m.Error != "" {
		t.Fatalf("delivered %+v; emulator: %+v %v", m, em, ok)
	}
	if emu.Count() != 1 {
		t.Fatalf("the emulator got %d messages, want exactly 1", emu.Count())
	}
	// The reply's callbacks (at its status address, signed with the query) went to the
	// replies only: none was held as an alert's that overtook its send.
	var held int
	if err := gw.G.Store.QueryRow(context.Background(), "SELECT COUNT(*) FROM alert_early_status").Scan(&held); err != nil || held != 0 {
		t.Fatalf("%d of the reply's callbacks held as an alert's (%v)", held, err)
	}
	// A permanent refusal is shown and not retried.
	emu.FailNumber("+393473330001", 21610)
	harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+c.ID+"/reply", op, map[string]string{"body": "Altro?"}, nil)
	waitUntil(t, 20*time.Second, "the permanent failure", func() bool { return thread().Status == "failed" })
	if m := thread(); m.Error == "" {
		t.Fatalf("failure not shown: %+v", m)
	}
}

// flakyRelay is a go-smtp server that answers 451 to the first failures messages, then 250.
type flakyRelay struct {
	mu       sync.Mutex
	failures int
	got      []string
}

func (r *flakyRelay) NewSession(*gosmtp.Conn) (gosmtp.Session, error) {
	return &relaySession{r: r}, nil
}

type relaySession struct{ r *flakyRelay }

func (s *relaySession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *relaySession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (s *relaySession) Data(rd io.Reader) error {
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.failures > 0 {
		s.r.failures--
		return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.r.got = append(s.r.got, string(b))
	return nil
}
func (s *relaySession) Reset()        {}
func (s *relaySession) Logout() error { return nil }

func (r *flakyRelay) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// netSMTPSender is a stand-in email sender used only when the gateway wires none.
type netSMTPSender struct{ addr string }

func (s netSMTPSender) Send(ctx context.Context, out channels.OutboundMessage) (channels.SendResult, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s>\r\n", out.From, out.To, out.Subject, out.MessageID)
	if out.InReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: <%s>\r\n", out.InReplyTo)
	}
	if len(out.References) > 0 {
		fmt.Fprintf(&b, "References: <%s>\r\n", strings.Join(out.References, "> <"))
	}
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", out.Body)
	err := smtp.SendMail(s.addr, nil, "noreply@055055.example", []string{out.To}, []byte(b.String()))
	if err != nil {
		var te *textproto.Error
		perm := errors.As(err, &te) && te.Code >= 500
		return channels.SendResult{}, &channels.SendError{Message: err.Error(), Permanent: perm}
	}
	return channels.SendResult{ExternalID: out.MessageID, Status: "sent"}, nil
}

func TestEmailReplySurvivesRelayOutage(t *testing.T) {
	relay := &flakyRelay{failures: 2}
	srv := gosmtp.NewServer(relay)
	srv.Domain = "relay.test"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	yaml := strings.Replace(harness.BaseYAML, "smtp:\n", "email:\n  from: \"Linea Comune <noreply@055055.example>\"\n  relay: "+ln.Addr().String()+"\nsmtp:\n", 1)
	gw := harness.Start(t, harness.Options{Replace: yaml})
	if gw.G.Senders[channels.Email] == nil {
		gw.G.Senders[channels.Email] = netSMTPSender{addr: ln.Addr().String()}
	}
	op := gw.User(t, "op", store.RoleOperator)
	r, err := gw.G.Ingest.Receive(context.Background(), channels.InboundMessage{Channel: channels.Email, ExternalID: "q1@cittadino.it",
		MessageID: "q1@cittadino.it", From: "anna@cittadino.it", To: "urp@comune.fi.it", Subject: "Rimborso TARI", Body: "Buongiorno, ..."})
	if err != nil {
		t.Fatal(err)
	}
	var msg channels.Message
	if st := harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+r.ContactID+"/reply", op, map[string]string{"body": "Gentile Anna, il rimborso è in corso."}, &msg); st != 202 {
		t.Fatalf("reply: %d", st)
	}
	waitUntil(t, 20*time.Second, "the email after two 451s", func() bool { return len(relay.messages()) == 1 })
	raw := relay.messages()[0]
	for _, want := range []string{"In-Reply-To: <q1@cittadino.it>", "Subject: Re: Rimborso TARI", msg.MessageID} {
		if !strings.Contains(raw, want) {
			t.Fatalf("relayed message lacks %q:\n%s", want, raw)
		}
	}
	waitUntil(t, 20*time.Second, "the sent status", func() bool {
		var full channels.Contact
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+r.ContactID, op, nil, &full)
		return full.Messages[len(full.Messages)-1].Status == "sent"
	})
}

func TestEventsStreamIsScoped(t *testing.T) {
	gw := harness.Start(t, harness.Options{})
	all := gw.User(t, "op", store.RoleOperator)
	emp := gw.User(t, "emp", store.RoleOperator, "empoli")
	streamAll, stopAll := openStream(t, gw.URL, all)
	defer stopAll()
	streamEmp, stopEmp := openStream(t, gw.URL, emp)
	defer stopEmp()
	inboundSMS(t, gw, "+393474440001", firenzeNumber, "ztl")
	inboundSMS(t, gw, "+393474440002", empoliNumber, "ztl")
	seen := func(s <-chan sseEvent, from string) bool {
		deadline := time.After(5 * time.Second)
		for {
			select {
			case e := <-s:
				var c channels.Contact
				if json.Unmarshal([]byte(e.data), &c) == nil && c.From == from {
					return true
				}
			case <-deadline:
				return false
			}
		}
	}
	if !seen(streamAll, "+393474440001") {
		t.Fatal("the unscoped operator did not see the Firenze contact")
	}
	if !seen(streamEmp, "+393474440002") {
		t.Fatal("the Empoli operator did not see the Empoli contact")
	}
	inboundSMS(t, gw, "+393474440003", firenzeNumber, "ancora ztl")
	if seen(streamEmp, "+393474440003") {
		t.Fatal("the Empoli operator saw a Firenze contact")
	}
}

type sseEvent struct{ typ, data string }

// openStream connects to /api/v1/events and returns its events.
func openStream(t *testing.T, base, token string) (<-chan sseEvent, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{}).Do(req) // no timeout: the stream is long-lived; cancel ends it
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 256)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				e.typ = line[7:]
			case strings.HasPrefix(line, "data: "):
				e.data = line[6:]
			case line == "" && e.data != "":
				out <- e
				e = sseEvent{}
			}
		}
	}()
	return out, cancel
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func TestResolveForwardsThreadAndAttachmentsToOffice(t *testing.T) {
	relay := &flakyRelay{failures: 1}
	srv := gosmtp.NewServer(relay)
	srv.Domain = "relay.test"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	yaml := strings.Replace(harness.BaseYAML, "smtp:\n", "email:\n  from: \"Linea Comune <noreply@055055.example>\"\n  relay: "+ln.Addr().String()+"\nsmtp:\n", 1)
	gw := harness.Start(t, harness.Options{Replace: yaml})
	if gw.G.Senders[channels.Email] == nil {
		t.Fatal("the gateway wired no email relay sender although email.relay is set")
	}
	op := gw.User(t, "op", store.RoleOperator)
	r, err := gw.G.Ingest.Receive(context.Background(), channels.InboundMessage{Channel: channels.Email, ExternalID: "v9@cittadino.it",
		MessageID: "v9@cittadino.it", From: "marco@cittadino.it", To: "urp@comune.fi.it", Subject: "Ricorso verbale 123",
		Body: "Allego il verbale che contesto.", Attachments: []channels.Attachment{{Filename: "verbale-123.pdf", ContentType: "application/pdf",
			Data: []byte("%PDF-1.4 verbale 123")}}})
	if err != nil {
		t.Fatal(err)
	}
	var got channels.Contact
	if st := harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+r.ContactID+"/resolve", op, map[string]string{"outcome": "forwarded_email",
		"office": "polizia-municipale", "category": "contravvenzioni", "note": "competenza PM"}, &got); st != 200 || got.Status != "resolved" {
		t.Fatalf("resolve: %d %+v", st, got)
	}
	waitUntil(t, 20*time.Second, "the forward after a 451", func() bool { return len(relay.messages()) == 1 })
	raw := relay.messages()[0]
	for _, want := range []string{"To: <pm@comune.fi.it>", "Inoltro: Ricorso verbale 123", "verbale-123.pdf", "competenza PM", "contesto"} {
		if !strings.Contains(raw, want) {
			t.Fatalf("forward lacks %q:\n%s", want, raw)
		}
	}
}

func TestClosedHoursEmailAnswerThroughRelay(t *testing.T) {
	relay := &flakyRelay{}
	srv := gosmtp.NewServer(relay)
	srv.Domain = "relay.test"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	today := time.Now().In(mustRome(t))
	holidays := fmt.Sprintf(`  holidays: ["%s", "%s", "%s"]`, today.AddDate(0, 0, -1).Format("2006-01-02"), today.Format("2006-01-02"), today.AddDate(0, 0, 1).Format("2006-01-02"))
	yaml := strings.Replace(harness.BaseYAML, `  close: "23:59"`, `  close: "23:59"`+"\n"+holidays, 1)
	yaml = strings.Replace(yaml, "smtp:\n", "email:\n  from: \"Linea Comune <noreply@055055.example>\"\n  relay: "+ln.Addr().String()+"\nsmtp:\n", 1)
	gw := harness.Start(t, harness.Options{Replace: yaml})
	if gw.G.Senders[channels.Email] == nil {
		t.Fatal("the gateway wired no email relay sender although email.relay is set")
	}
	ctx := context.Background()
	admin := gw.User(t, "admin", store.RoleAdmin)
	// An out-of-office answer gets nothing; the citizen's English email gets one threaded answer.
	// The answer is decided in the transaction that stores the message, so once Receive returns
	// the threads show every answer there will ever be: no waiting to see that none follows.
	ooo, err := gw.G.Ingest.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "ooo@robot.it", MessageID: "ooo@robot.it",
		From: "robot@robot.it", To: "urp@comune.fi.it", Subject: "Out of office", Body: "I am away", AutoReply: true})
	if err != nil {
		t.Fatal(err)
	}
	var citizen channels.Receipt
	for _, id := range []string{"en1@visitor.uk", "en2@visitor.uk"} {
		if citizen, err = gw.G.Ingest.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: id, MessageID: id, InReplyTo: strings.Replace(id, "en2", "en1", 1),
			From: "john@visitor.uk", To: "urp@comune.fi.it", Subject: "Parking permit", Body: "Hello, how can I get a parking permit for the ZTL? Thanks",
			EnvelopeFrom: "john@visitor.uk", SenderCheck: channels.SenderPass}); err != nil {
			t.Fatal(err)
		}
	}
	outbound := func(contactID string) int {
		var c channels.Contact
		if st := harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+contactID, admin, nil, &c); st != 200 {
			t.Fatalf("contact %s: %d", contactID, st)
		}
		n := 0
		for _, m := range c.Messages {
			if m.Direction == channels.Outbound {
				n++
			}
		}
		return n
	}
	if n := outbound(ooo.ContactID); n != 0 {
		t.Fatalf("the auto-reply got %d answers, want none", n)
	}
	if n := outbound(citizen.ContactID); n != 1 {
		t.Fatalf("the citizen's contact has %d answers, want one per contact and closed period", n)
	}
	waitUntil(t, 20*time.Second, "the closed-hours answer", func() bool { return len(relay.messages()) >= 1 })
	msgs := relay.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d answers reached the relay, want 1", len(msgs))
	}
	for _, want := range []string{"To: <john@visitor.uk>", "In-Reply-To: <en1@visitor.uk>", "Subject: Linea Comune: your message was received", "closed right now"} {
		if !strings.Contains(msgs[0], want) {
			t.Fatalf("answer lacks %q:\n%s", want, msgs[0])
		}
	}
}

// An undecided contact (the shared number, no comune in sight) is given automatically to an
// available operator of a comune the shared number serves, who sees it; before, only an operator
// without comuni could get it, so on a line staffed by each comune's own people it waited for a
// supervisor.
func TestUndecidedContactIsAssignedToAnOperatorOfASharedComune(t *testing.T) {
	gw := harness.Start(t, harness.Options{})
	admin := gw.User(t, "admin", store.RoleAdmin)
	emp := gw.User(t, "emp", store.RoleOperator, "empoli")
	if st := harness.API(t, "PUT", gw.URL+"/api/v1/me/status", emp, map[string]string{"status": "available"}, nil); st != 200 {
		t.Fatalf("status: %d", st)
	}
	inboundSMS(t, gw, "+393471110009", sharedNumber, "una domanda generica")
	c := newestContact(t, gw, admin, "+393471110009")
	if c.Comune != nil {
		t.Fatalf("comune decided without a clue: %s", str(c.Comune))
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.Assignee == nil || *c.Assignee != "emp" {
		if time.Now().After(deadline) {
			t.Fatalf("the undecided contact was not given to the available Empoli operator: assignee %v", c.Assignee)
		}
		time.Sleep(50 * time.Millisecond)
		c = newestContact(t, gw, admin, "+393471110009")
	}
	var got channels.Contact
	if st := harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+c.ID, emp, nil, &got); st != 200 {
		t.Fatalf("the Empoli operator cannot open the contact given to them: %d", st)
	}
}
