package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

// ctiPost posts one JSON event with a bearer token and returns the status and the answer.
func ctiPost(t *testing.T, gw *harness.Gateway, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", gw.URL+"/webhooks/cti", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, text := harness.Do(t, req)
	return resp.StatusCode, text
}

// A PBX's user is recognised only when it is an enabled user of the gateway: a call answered
// under a made-up name or a disabled user's is recorded whole (answered, its times, its cause,
// the name as reported), the PBX is told, and the call's record notes it.
func TestCTIUnrecognizedOperatorIsReported(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		gw := harness.Start(t, harness.Options{Dialect: d})
		sup := gw.User(t, "sup", store.RoleSupervisor)
		gw.User(t, "anna", store.RoleOperator)
		gw.User(t, "bruno", store.RoleOperator)
		if _, err := gw.G.Store.DisableUser(context.Background(), "bruno"); err != nil {
			t.Fatal(err)
		}
		recognized := func(body string, want bool) string {
			t.Helper()
			code, text := ctiPost(t, gw, harness.CTIToken, body)
			var got struct {
				ContactID      string `json:"contact_id"`
				UserRecognized *bool  `json:"user_recognized"`
				Warning        string `json:"warning"`
			}
			if code != 200 || json.Unmarshal([]byte(text), &got) != nil || got.UserRecognized == nil || *got.UserRecognized != want ||
				(got.Warning != "") == want {
				t.Fatalf("%s: %d %s, want 200 with user_recognized %v", body, code, text, want)
			}
			return got.ContactID
		}
		answered := recognized(`{"event":"newCall","from":"0557654321","to":"+390552768000","callId":"op-1","user":"anna"}`, true)
		recognized(`{"event":"answer","callId":"op-1","user":"anna"}`, true)
		recognized(`{"event":"hangup","callId":"op-1","user":"anna"}`, true)
		nobody := recognized(`{"event":"newCall","from":"0557654322","to":"+390552768000","callId":"op-2","user":"ghost"}`, false)
		recognized(`{"event":"answer","callId":"op-2","user":"bruno"}`, false)
		recognized(`{"event":"hangup","callId":"op-2","user":"ghost","cause":"busy"}`, false)

		var c channels.Contact
		if code := harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+answered, sup, nil, &c); code != 200 || c.Call == nil {
			t.Fatalf("anna's call: %d %+v", code, c)
		}
		if c.Call.Operator != "anna" || c.Call.AnsweredBy == nil || *c.Call.AnsweredBy != "anna" {
			t.Errorf("anna's call is on %q (answered by %v)", c.Call.Operator, c.Call.AnsweredBy)
		}
		c = channels.Contact{}
		if code := harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+nobody, sup, nil, &c); code != 200 || c.Call == nil {
			t.Fatalf("the other call: %d %+v", code, c)
		}
		call := c.Call
		if call.Operator != "ghost" {
			t.Errorf("a call the PBX last put on ghost is on %q", call.Operator)
		}
		if call.Status != "completed:busy" || call.AnsweredAt == nil || call.Result == nil || *call.Result != channels.CallAnswered || call.TalkSeconds == nil {
			t.Errorf("the call's facts were lost: %+v", call)
		}
		if len(c.Messages) == 0 || !strings.Contains(strings.Join(c.Messages[0].Notes, "\n"), `operatore "ghost", che non è un utente attivo`) {
			t.Errorf("the call's record does not note that ghost is no user: %+v", c.Messages)
		}
	})
}

// Each PBX posts with its own token, from its own networks: the wrong token is 401, a
// source's token from outside its networks 403, and cti.token still works beside them.
func TestCTISourcesOverHTTP(t *testing.T) {
	yaml := strings.Replace(harness.BaseYAML, "cti:\n  token: "+harness.CTIToken, "cti:\n  token: "+harness.CTIToken+`
  sources:
    - {name: pbx-here, token: here-token-0123456789, networks: [127.0.0.0/8, "::1"]}
    - {name: pbx-away, token: away-token-0123456789, networks: [192.0.2.0/24]}`, 1)
	gw := harness.Start(t, harness.Options{Replace: yaml})
	sup := gw.User(t, "sup", store.RoleSupervisor)
	call := func(id string) string {
		return `{"event":"newCall","from":"0557654321","to":"+390552768000","callId":"` + id + `"}`
	}
	if code, text := ctiPost(t, gw, "here-token-0123456789x", call("s-0")); code != 401 {
		t.Errorf("a token no source has: %d %s", code, text)
	}
	if code, text := ctiPost(t, gw, "away-token-0123456789", call("s-1")); code != 403 || !strings.Contains(text, "pbx-away may not post from 127.0.0.1") {
		t.Errorf("pbx-away's token from loopback: %d %s", code, text)
	}
	for _, c := range []struct{ token, id, note string }{
		{"here-token-0123456789", "s-2", `chiamata segnalata dal centralino "pbx-here"`},
		{harness.CTIToken, "s-3", ""},
	} {
		code, text := ctiPost(t, gw, c.token, call(c.id))
		var pop struct {
			ContactID string `json:"contact_id"`
		}
		if code != 200 || json.Unmarshal([]byte(text), &pop) != nil {
			t.Fatalf("%s: %d %s", c.id, code, text)
		}
		var contact channels.Contact
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+pop.ContactID, sup, nil, &contact)
		if len(contact.Messages) == 0 || strings.Join(contact.Messages[0].Notes, "\n") != c.note {
			t.Errorf("%s: the call's notes %+v, want %q", c.id, contact.Messages, c.note)
		}
	}
	var list contactList
	harness.API(t, "GET", gw.URL+"/api/v1/contacts?channel=phone", sup, nil, &list)
	if len(list.Items) != 2 {
		t.Errorf("%d calls recorded, want the 2 let in", len(list.Items))
	}
}
