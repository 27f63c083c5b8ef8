package integration

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/integration/twilioemu"
	"github.com/sportello/sportello/store"
)

// Whole Twilio calls played against the emulator: the caller dials the comune's number,
// chooses from the menu, waits in the queue; the routing core assigns the call and the gateway
// connects it to the operator through Twilio's REST API; they talk; the call is transferred or
// hung up. The figures of each call are read back through the operator API.

const (
	callCitizen  = "+393471230001"
	callFirenze  = "+390552768000"
	officePhone  = "+390553283333"
	operatorCell = "+393351112222"
)

const voiceYAML = `
voice:
  ring_seconds: 2
  callback_offer_seconds: 1
`

type callRig struct {
	t   *testing.T
	gw  *harness.Gateway
	emu *twilioemu.Emulator
	ctx context.Context
	sup string
}

func newCallRig(t *testing.T, d store.Dialect) *callRig {
	gw := harness.Start(t, harness.Options{Dialect: d, Extra: voiceYAML})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return &callRig{t: t, gw: gw, emu: gw.Twilio, ctx: ctx, sup: gw.User(t, "sup", store.RoleSupervisor)}
}

// operator creates an operator, optionally with a phone, and returns their token.
func (r *callRig) operator(name, phone string) string {
	tok := r.gw.User(r.t, name, store.RoleOperator)
	if phone != "" {
		if err := r.gw.G.Store.SetUserPhone(r.ctx, name, phone); err != nil {
			r.t.Fatal(err)
		}
	}
	return tok
}

func (r *callRig) presence(token, status string) {
	r.t.Helper()
	if code := harness.API(r.t, "PUT", r.gw.URL+"/api/v1/me/status", token, map[string]string{"status": status}, nil); code != 200 {
		r.t.Fatalf("presence %s: %d", status, code)
	}
}

// dial places a call from the citizen and chooses menu item 2 (contravvenzioni); it returns
// the call's sid and its contact's id. An available operator may be offered the call before
// the caller's <Enqueue> runs (the REST update then replaces it, as at Twilio).
func (r *callRig) dial(from string) (string, string) {
	r.t.Helper()
	sid, err := r.emu.PlaceCall(twilioemu.IncomingCall{From: from, To: callFirenze,
		URL: harness.PublicURL + "/webhooks/twilio/voice", StatusCallback: harness.PublicURL + "/webhooks/twilio/voice/status"})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.emu.Press(r.ctx, sid, "2"); err != nil {
		r.t.Fatal(err)
	}
	id, err := r.gw.G.Store.ContactIDByExternal(r.ctx, channels.Phone, sid)
	if err != nil {
		r.t.Fatal(err)
	}
	return sid, id
}

func (r *callRig) waitCall(sid, what string, ok func(twilioemu.Call) bool) twilioemu.Call {
	r.t.Helper()
	c, err := r.emu.WaitCall(r.ctx, func(c twilioemu.Call) bool { return c.Sid == sid && ok(c) })
	if err != nil {
		got, _ := r.emu.CallInfo(sid)
		r.t.Fatalf("waiting for %s: %v; call %+v", what, err, got)
	}
	return c
}

func (r *callRig) ringing(to string) twilioemu.Call {
	r.t.Helper()
	leg, err := r.emu.WaitRinging(r.ctx, to)
	if err != nil {
		r.t.Fatalf("waiting for %s to ring: %v; calls %+v", to, err, r.emu.Calls())
	}
	return leg
}

func (r *callRig) contact(id string) channels.Contact {
	r.t.Helper()
	var c channels.Contact
	if code := harness.API(r.t, "GET", r.gw.URL+"/api/v1/contacts/"+id, r.sup, nil, &c); code != 200 {
		r.t.Fatalf("contact %s: %d", id, code)
	}
	return c
}

// waitContact polls the operator API until the contact satisfies ok (the gateway records
// Twilio's callbacks as they come).
func (r *callRig) waitContact(id, what string, ok func(channels.Contact) bool) channels.Contact {
	r.t.Helper()
	for {
		c := r.contact(id)
		if ok(c) {
			return c
		}
		select {
		case <-r.ctx.Done():
			r.t.Fatalf("waiting for %s: contact %+v call %+v", what, c, c.Call)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestCallConnectedToBrowserThenTransferred(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		r := newCallRig(t, d)
		alice := r.operator("alice", "")
		r.presence(alice, "available")
		sid, id := r.dial(callCitizen)

		// The routing core gives the call to alice; the gateway dials her browser.
		leg := r.ringing("client:alice")
		if err := r.emu.Answer(leg.Sid); err != nil {
			t.Fatal(err)
		}
		r.waitCall(sid, "the bridge", func(c twilioemu.Call) bool { return c.BridgedTo == leg.Sid })
		c := r.waitContact(id, "the answer", func(c channels.Contact) bool { return c.Call.AnsweredBy != nil })
		if str(c.Call.AnsweredBy) != "alice" || str(c.Assignee) != "alice" {
			t.Fatalf("answered by %s, assigned to %s", str(c.Call.AnsweredBy), str(c.Assignee))
		}
		if q, _ := r.emu.CallInfo(sid); len(q.QueueResults) > 0 && q.QueueResults[0] != "redirected" {
			t.Fatalf("queue results %v", q.QueueResults)
		}
		time.Sleep(1100 * time.Millisecond) // they talk: the figures checked below want TalkSeconds >= 1

		// Hold: the caller waits in a queue of their own; resuming rings alice again.
		hold := func(on bool) int {
			return harness.API(t, "POST", r.gw.URL+"/api/v1/contacts/"+id+"/hold", alice, map[string]bool{"hold": on}, nil)
		}
		if code := hold(false); code != 409 {
			t.Fatalf("resume before hold: %d", code)
		}
		if code := hold(true); code != 200 {
			t.Fatalf("hold: %d", code)
		}
		r.waitCall(sid, "the hold", func(c twilioemu.Call) bool { return strings.HasPrefix(c.Queue, "hold-") })
		r.waitCall(leg.Sid, "alice's leg to end", func(c twilioemu.Call) bool { return !c.Ended.IsZero() })
		if code := hold(true); code != 409 {
			t.Fatalf("hold twice: %d", code)
		}
		if code := hold(false); code != 200 {
			t.Fatalf("resume: %d", code)
		}
		leg = r.ringing("client:alice")
		if err := r.emu.Answer(leg.Sid); err != nil {
			t.Fatal(err)
		}
		r.waitCall(sid, "the bridge after the hold", func(c twilioemu.Call) bool { return c.BridgedTo == leg.Sid })
		r.waitContact(id, "in progress again", func(c channels.Contact) bool { return c.Call.Status == "in-progress" })

		// Resolved as transferred by phone: the live call goes to the office.
		body := map[string]string{"outcome": "transferred_phone", "office": "polizia-municipale"}
		if code := harness.API(t, "POST", r.gw.URL+"/api/v1/contacts/"+id+"/resolve", alice, body, nil); code != 200 {
			t.Fatalf("resolve: %d", code)
		}
		office := r.ringing(officePhone)
		if err := r.emu.Answer(office.Sid); err != nil {
			t.Fatal(err)
		}
		r.waitCall(sid, "the office bridged", func(c twilioemu.Call) bool { return c.BridgedTo == office.Sid })
		if got, _ := r.emu.CallInfo(leg.Sid); got.Ended.IsZero() {
			t.Fatalf("alice's leg still up after the transfer: %+v", got)
		}
		if err := r.emu.HangUp(sid); err != nil {
			t.Fatal(err)
		}
		c = r.waitContact(id, "the end of the call", func(c channels.Contact) bool { return c.Call.Status == "completed" })
		if str(c.Call.Result) != channels.CallAnswered || c.Call.TalkSeconds == nil || *c.Call.TalkSeconds < 1 ||
			c.Call.WaitSeconds == nil || str(c.Call.TransferredTo) != officePhone || str(c.Call.AnsweredBy) != "alice" {
			t.Fatalf("figures: result=%s talk=%v wait=%v transferred=%s answered_by=%s", str(c.Call.Result), c.Call.TalkSeconds,
				c.Call.WaitSeconds, str(c.Call.TransferredTo), str(c.Call.AnsweredBy))
		}
		if c.Outcome == nil || *c.Outcome != channels.OutcomeTransferredPhone {
			t.Fatalf("outcome %v", c.Outcome)
		}
		if spoken := strings.Join(r.waitCall(sid, "the end", func(c twilioemu.Call) bool { return !c.Ended.IsZero() }).Spoken, " | "); !strings.Contains(spoken, "La trasferiamo") {
			t.Fatalf("the caller heard %q", spoken)
		}
	})
}

func TestCallRingsOutThenNextOperatorsPhoneWithWhisper(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		r := newCallRig(t, d)
		alice := r.operator("alice", "")
		bob := r.operator("bob", operatorCell)
		r.presence(alice, "available")
		sid, id := r.dial(callCitizen)

		// Alice's browser rings for voice.ring_seconds and nobody answers.
		missed := r.ringing("client:alice")
		r.presence(bob, "available")
		r.waitCall(missed.Sid, "alice's leg to ring out", func(c twilioemu.Call) bool { return !c.Ended.IsZero() })

		// The call goes back to the queue and to bob's phone; bob hears the whisper and takes it.
		leg := r.ringing(operatorCell)
		var me struct{ Presence string }
		harness.API(t, "GET", r.gw.URL+"/api/v1/me", alice, nil, &me)
		if me.Presence != "away" {
			t.Fatalf("alice, who missed the call, is %q", me.Presence)
		}
		if err := r.emu.Answer(leg.Sid); err != nil {
			t.Fatal(err)
		}
		if err := r.emu.Press(r.ctx, leg.Sid, "1"); err != nil {
			t.Fatal(err)
		}
		r.waitCall(sid, "the bridge to bob", func(c twilioemu.Call) bool { return c.BridgedTo == leg.Sid })
		heard, _ := r.emu.CallInfo(leg.Sid)
		if w := strings.Join(heard.Spoken, " "); !strings.Contains(w, "Chiamata per contravvenzioni, Comune di Firenze: premere 1 per rispondere") {
			t.Fatalf("bob's whisper: %q", w)
		}
		c := r.waitContact(id, "bob's answer", func(c channels.Contact) bool { return c.Call.AnsweredBy != nil })
		if str(c.Call.AnsweredBy) != "bob" || str(c.Assignee) != "bob" {
			t.Fatalf("answered by %s, assigned to %s", str(c.Call.AnsweredBy), str(c.Assignee))
		}
		// Bob hangs up; the caller's call ends.
		if err := r.emu.HangUp(leg.Sid); err != nil {
			t.Fatal(err)
		}
		end := r.waitCall(sid, "the end", func(c twilioemu.Call) bool { return !c.Ended.IsZero() })
		if fmt.Sprint(end.DialResults) != "[no-answer completed]" {
			t.Fatalf("dial results %v", end.DialResults)
		}
		c = r.waitContact(id, "the figures", func(c channels.Contact) bool { return c.Call.Status == "completed" })
		if str(c.Call.Result) != channels.CallAnswered || c.Call.TalkSeconds == nil || c.Call.WaitSeconds == nil || *c.Call.WaitSeconds < 2 {
			t.Fatalf("figures: result=%s talk=%v wait=%v", str(c.Call.Result), c.Call.TalkSeconds, c.Call.WaitSeconds)
		}
	})
}

func TestCallVoicemailNeverTakesTheCall(t *testing.T) {
	r := newCallRig(t, store.SQLite)
	bob := r.operator("bob", operatorCell)
	r.presence(bob, "available")
	sid, id := r.dial(callCitizen)
	// Bob's voicemail answers and does not press 1: the call is not connected to it.
	leg := r.ringing(operatorCell)
	if err := r.emu.Answer(leg.Sid); err != nil {
		t.Fatal(err)
	}
	c := r.waitCall(sid, "the dial to end", func(c twilioemu.Call) bool { return len(c.DialResults) > 0 })
	if c.BridgedTo != "" || c.DialResults[0] == "completed" && c.Ended.IsZero() && c.BridgedTo != "" {
		t.Fatalf("bridged to a voicemail: %+v", c)
	}
	r.waitCall(sid, "back in the queue", func(c twilioemu.Call) bool { return c.Queue != "" })
	ct := r.waitContact(id, "back to the queue", func(c channels.Contact) bool { return c.Status == channels.StatusOpen })
	if ct.Call.AnsweredBy != nil || ct.Assignee != nil {
		t.Fatalf("a voicemail answered: answered_by=%s assignee=%s", str(ct.Call.AnsweredBy), str(ct.Assignee))
	}
}

func TestCallAbandonedInQueue(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		r := newCallRig(t, d)
		sid, id := r.dial(callCitizen) // nobody is available
		wait := r.waitCall(sid, "the wait announcement", func(c twilioemu.Call) bool {
			return strings.Contains(strings.Join(c.Spoken, " "), "il primo in attesa")
		})
		_ = wait
		if err := r.emu.HangUp(sid); err != nil {
			t.Fatal(err)
		}
		c := r.waitContact(id, "the abandonment", func(c channels.Contact) bool { return c.Call.Result != nil })
		if str(c.Call.Result) != channels.CallAbandoned || c.Call.WaitSeconds == nil || c.Call.AnsweredBy != nil || c.Call.TalkSeconds != nil {
			t.Fatalf("figures: result=%s wait=%v answered_by=%s talk=%v", str(c.Call.Result), c.Call.WaitSeconds, str(c.Call.AnsweredBy), c.Call.TalkSeconds)
		}
		if got := r.waitCall(sid, "the end", func(c twilioemu.Call) bool { return !c.Ended.IsZero() }); fmt.Sprint(got.QueueResults) != "[hangup]" {
			t.Fatalf("queue results %v", got.QueueResults)
		}
	})
}

func TestCallbackOfferAndCallback(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		r := newCallRig(t, d)
		alice := r.operator("alice", "")
		sid, id := r.dial(callCitizen) // nobody is available
		// After voice.callback_offer_seconds the wait offers a callback; the caller presses 1.
		r.waitCall(sid, "the callback offer", func(c twilioemu.Call) bool {
			return c.Gathering && strings.Contains(strings.Join(c.Spoken, " "), "essere richiamato")
		})
		if err := r.emu.Press(r.ctx, sid, "1"); err != nil {
			t.Fatal(err)
		}
		end := r.waitCall(sid, "the caller to leave", func(c twilioemu.Call) bool { return !c.Ended.IsZero() })
		if fmt.Sprint(end.QueueResults) != "[leave]" || !strings.Contains(strings.Join(end.Spoken, " "), "La richiameremo") {
			t.Fatalf("left with %v, heard %q", end.QueueResults, end.Spoken)
		}
		c := r.waitContact(id, "the callback result", func(c channels.Contact) bool { return c.Call.Result != nil })
		if str(c.Call.Result) != channels.CallCallback || c.Assignee != nil {
			t.Fatalf("result=%s assignee=%s", str(c.Call.Result), str(c.Assignee))
		}
		// Alice becomes available: the routing core gives her the callback (nothing rings).
		r.presence(alice, "available")
		c = r.waitContact(id, "the callback assigned", func(c channels.Contact) bool { return c.Assignee != nil })
		if str(c.Assignee) != "alice" {
			t.Fatalf("assigned to %s", str(c.Assignee))
		}
		// One click: alice's browser rings first, then the citizen.
		var placed struct {
			CallSid string `json:"call_sid"`
		}
		if code := harness.API(t, "POST", r.gw.URL+"/api/v1/contacts/"+id+"/callback", alice, map[string]string{}, &placed); code != 202 || placed.CallSid == "" {
			t.Fatalf("callback: %d %+v", code, placed)
		}
		first := r.ringing("client:alice")
		if first.Sid != placed.CallSid || first.From != callFirenze {
			t.Fatalf("first leg %+v", first)
		}
		if err := r.emu.Answer(first.Sid); err != nil {
			t.Fatal(err)
		}
		citizen := r.ringing(callCitizen)
		if citizen.From != callFirenze {
			t.Fatalf("the citizen sees %s calling", citizen.From)
		}
		if err := r.emu.Answer(citizen.Sid); err != nil {
			t.Fatal(err)
		}
		r.waitCall(first.Sid, "the callback bridged", func(c twilioemu.Call) bool { return c.BridgedTo == citizen.Sid })
		// Another operator's contact cannot be called back by someone outside its scope.
		other := r.gw.User(t, "empoli-op", store.RoleOperator, "empoli")
		if code := harness.API(t, "POST", r.gw.URL+"/api/v1/contacts/"+id+"/callback", other, map[string]string{}, nil); code != 404 {
			t.Fatalf("callback out of scope: %d", code)
		}
	})
}

func TestCallRecordingPlaysThroughTheGateway(t *testing.T) {
	gw := harness.Start(t, harness.Options{Extra: "\nvoice:\n  ring_seconds: 5\n  record: true\n"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := &callRig{t: t, gw: gw, emu: gw.Twilio, ctx: ctx, sup: gw.User(t, "sup", store.RoleSupervisor)}
	alice := r.operator("alice", "")
	r.presence(alice, "available")
	sid, id := r.dial(callCitizen)
	leg := r.ringing("client:alice")
	if err := r.emu.Answer(leg.Sid); err != nil {
		t.Fatal(err)
	}
	r.waitCall(sid, "the bridge", func(c twilioemu.Call) bool { return c.BridgedTo == leg.Sid })
	if err := r.emu.HangUp(sid); err != nil {
		t.Fatal(err)
	}
	heard := r.waitCall(sid, "the end", func(c twilioemu.Call) bool { return !c.Ended.IsZero() })
	if !strings.Contains(heard.Spoken[0], "sarà registrata") {
		t.Fatalf("no consent announcement: %q", heard.Spoken[0])
	}
	var recSid string
	for s, call := range r.emu.Recordings() {
		if call == sid {
			recSid = s
		}
	}
	if recSid == "" {
		t.Fatalf("the emulator recorded nothing: %v", r.emu.Recordings())
	}
	// The recording plays through the gateway for whoever may see the contact.
	var body string
	for {
		req, _ := http.NewRequest("GET", gw.URL+"/api/v1/contacts/"+id+"/recording", nil)
		req.Header.Set("Authorization", "Bearer "+alice)
		resp, text := harness.Do(t, req)
		if resp.StatusCode == 200 {
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "audio/") {
				t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
			}
			body = text
			break
		}
		if resp.StatusCode != 404 || ctx.Err() != nil {
			t.Fatalf("recording: %d %s", resp.StatusCode, text)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.HasPrefix(body, "ID3") || !strings.Contains(body, recSid) {
		t.Fatalf("recording bytes %q", body)
	}
	empoli := gw.User(t, "empoli-op", store.RoleOperator, "empoli")
	if code := harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+id+"/recording", empoli, nil, nil); code != 404 {
		t.Fatalf("recording out of scope: %d", code)
	}
	if code := harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+id+"/recording", "", nil, nil); code != 401 {
		t.Fatalf("anonymous recording: %d", code)
	}
	// The contact never carries the provider's URL of the recording.
	req, _ := http.NewRequest("GET", gw.URL+"/api/v1/contacts/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+alice)
	if _, text := harness.Do(t, req); strings.Contains(text, recSid) || strings.Contains(text, "/Recordings/") {
		t.Fatalf("the contact exposes the provider's recording: %s", text)
	}
	// The citizen's erasure deletes the recording at Twilio too, not only the link to it.
	citizen := r.contact(id).Citizen
	if citizen == nil {
		t.Fatal("the contact has no citizen")
	}
	dpo := gw.User(t, "dpo", store.RoleAdmin)
	if code := harness.API(t, "POST", gw.URL+"/api/v1/citizens/"+citizen.ID+"/erase", dpo, map[string]string{"reason": "richiesta dell'interessato"}, nil); code != 200 {
		t.Fatalf("erase: %d", code)
	}
	if _, held := r.emu.Recordings()[recSid]; held {
		t.Fatalf("the emulator still holds recording %s after the erasure", recSid)
	}
	if code := harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+id+"/recording", alice, nil, nil); code != 404 {
		t.Fatalf("recording after the erasure: %d", code)
	}
}

// One person talks to one caller: bob, free for three contacts, gets the second call only when
// the first has ended, and then at once (not at the next backlog sweep).
func TestSecondCallWaitsUntilTheOperatorIsOffThePhone(t *testing.T) {
	r := newCallRig(t, store.SQLite)
	bob := r.operator("bob", operatorCell)
	r.presence(bob, "available")
	first, firstID := r.dial(callCitizen)
	leg := r.ringing(operatorCell)
	if err := r.emu.Answer(leg.Sid); err != nil {
		t.Fatal(err)
	}
	if err := r.emu.Press(r.ctx, leg.Sid, "1"); err != nil {
		t.Fatal(err)
	}
	r.waitCall(first, "the bridge to bob", func(c twilioemu.Call) bool { return c.BridgedTo == leg.Sid })
	r.waitContact(firstID, "bob's answer", func(c channels.Contact) bool { return c.Call.AnsweredBy != nil })

	second, secondID := r.dial("+393471230002")
	r.waitCall(second, "the second caller waiting", func(c twilioemu.Call) bool {
		return strings.Contains(strings.Join(c.Spoken, " "), "il primo in attesa")
	})
	if c := r.contact(secondID); c.Assignee != nil {
		t.Fatalf("the second call went to %s while bob talks", str(c.Assignee))
	}
	for _, c := range r.emu.Calls() {
		if c.To == operatorCell && c.Sid != leg.Sid {
			t.Fatalf("bob's phone rang a second time while he talks: %+v", c)
		}
	}

	if err := r.emu.HangUp(leg.Sid); err != nil {
		t.Fatal(err)
	}
	next := r.ringing(operatorCell)
	if next.Sid == leg.Sid {
		t.Fatal("the ended leg rang again")
	}
	if c := r.waitContact(secondID, "the second call offered to bob", func(c channels.Contact) bool { return c.Assignee != nil }); str(c.Assignee) != "bob" {
		t.Fatalf("the second call went to %s", str(c.Assignee))
	}
}

// A replica that marked a call offered to alice and died before asking Twilio to dial her left
// the call offered and hers: the caller waited in Twilio's queue, and nothing offered the call
// again. Once the offer's deadline passed, the sweep gives the call to bob, whose phone rings
// through Twilio's REST API; bob takes it. News of alice's dead offer arriving afterwards (a
// <Dial action>, her leg's answer) changes nothing.
func TestOfferLeftByADeadReplicaReachesTheNextOperator(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		r := newCallRig(t, d)
		st := r.gw.G.Store
		alice := r.operator("alice", "")
		sid, id := r.dial(callCitizen) // nobody is available: the caller waits in the queue
		r.waitCall(sid, "the queue", func(c twilioemu.Call) bool { return c.Queue != "" })

		// What the dying replica committed: the assignment, then the offer's mark; no REST call.
		if err := st.WriteAlone(r.ctx, func(ctx context.Context, tx *store.Tx) error {
			ok, err := st.AssignTx(ctx, tx, id, "alice", true, st.Now())
			if err == nil && !ok {
				err = fmt.Errorf("the call was not waiting")
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		name, err := st.MarkCallOffered(r.ctx, id, "alice")
		if err != nil || name == "" {
			t.Fatalf("marking the offer: %q %v", name, err)
		}
		// ...two minutes ago: past the deadline (ring_seconds 2 + 58 s).
		stamp, err := strconv.ParseInt(name, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		old := strconv.FormatInt(stamp-(2*time.Minute).Microseconds(), 10)
		if err := st.Write(r.ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE contacts SET call_offered_at = ? WHERE id = ?", stamp-(2*time.Minute).Microseconds(), id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		r.presence(alice, "available") // she holds the call: she is given nothing else
		bob := r.operator("bob", operatorCell)
		r.presence(bob, "available")
		if c := r.contact(id); str(c.Assignee) != "alice" || c.Call.Status != "offered" {
			t.Fatalf("precondition: the call is offered to alice, not %s to %s", c.Call.Status, str(c.Assignee))
		}

		// The SLA sweep runs every 15 s on its own; this one need not wait for it.
		if _, err := r.gw.G.Desk.ExpireOffers(r.ctx); err != nil {
			t.Fatal(err)
		}
		leg := r.ringing(operatorCell)
		if err := r.emu.Answer(leg.Sid); err != nil {
			t.Fatal(err)
		}
		if err := r.emu.Press(r.ctx, leg.Sid, "1"); err != nil {
			t.Fatal(err)
		}
		r.waitCall(sid, "the bridge to bob", func(c twilioemu.Call) bool { return c.BridgedTo == leg.Sid })
		c := r.waitContact(id, "bob's answer", func(c channels.Contact) bool { return c.Call.AnsweredBy != nil })
		if str(c.Call.AnsweredBy) != "bob" || str(c.Assignee) != "bob" {
			t.Fatalf("answered by %s, assigned to %s; want bob", str(c.Call.AnsweredBy), str(c.Assignee))
		}
		log, _, err := st.AuditLog(r.ctx, store.AuditFilter{ContactID: id})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(log, func(e store.AuditEntry) bool {
			return e.Actor == store.AuditSystem && e.Action == store.AuditUnassign && e.Target == "alice" && strings.Contains(e.Detail, "offer expired")
		}) {
			t.Fatalf("no audited expiry of alice's offer: %+v", log)
		}

		// Late news of alice's offer, signed as Twilio signs it.
		q := url.Values{"contact": {id}, "offer": {old}, "operator": {"alice"}}.Encode()
		if resp, body := harness.PostTwilio(t, r.gw.URL, "/webhooks/twilio/voice/dialed?"+q, url.Values{"AccountSid": {r.emu.AccountSID()},
			"CallSid": {sid}, "DialCallStatus": {"no-answer"}}); resp.StatusCode != 200 {
			t.Fatalf("late <Dial action>: %d %s", resp.StatusCode, body)
		}
		if resp, body := harness.PostTwilio(t, r.gw.URL, "/webhooks/twilio/voice/leg?"+q, url.Values{"AccountSid": {r.emu.AccountSID()},
			"CallSid": {leg.Sid}, "ParentCallSid": {sid}, "CallStatus": {"in-progress"}}); resp.StatusCode != 200 ||
			!strings.Contains(body, "<Hangup/>") {
			t.Fatalf("late leg answer: %d %s; want the late leg hung up", resp.StatusCode, body)
		}
		c = r.contact(id)
		if c.Call.Status != "in-progress" || str(c.Call.AnsweredBy) != "bob" || str(c.Assignee) != "bob" {
			t.Fatalf("after late news: call %s answered by %s, assigned to %s; want bob's, in progress", c.Call.Status,
				str(c.Call.AnsweredBy), str(c.Assignee))
		}
		var me struct{ Presence string }
		harness.API(t, "GET", r.gw.URL+"/api/v1/me", alice, nil, &me)
		if me.Presence != "available" {
			t.Fatalf("alice is %q after late news of an offer that expired", me.Presence)
		}
		if err := r.emu.HangUp(leg.Sid); err != nil {
			t.Fatal(err)
		}
		r.waitContact(id, "the end", func(c channels.Contact) bool { return c.Call.Status == "completed" })
	})
}
