package integration

import (
	"mime"
	"net/http"
	"net/mail"
	"strings"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

// relayedSubject is the decoded Subject of a relayed message.
func relayedSubject(t *testing.T, m emailRelayed) string {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return subject
}

// TestOfficeAnswerWithoutThreadHeadersJoinsByToken: through the SMTP door, the office answers
// our forward from a mailer that keeps no In-Reply-To or References, the forward's subject
// and its token in its own: it joins Anna's thread. A stranger writing the office's address in
// From with the same subject does not. The reply to Anna and her export carry no token.
func TestOfficeAnswerWithoutThreadHeadersJoinsByToken(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := forwardAnnasMail(t, d, "admin-tok", "multa-tok@example.it")
		gw, relay, token, addr, anna, fwd := f.gw, f.relay, f.token, f.addr, f.anna, f.fwd
		fwdSubject := relayedSubject(t, fwd)
		tokens := channels.OfficeTokensIn(fwdSubject)
		if fwd.To != "pm@comune.fi.it" || len(tokens) != 1 {
			t.Fatalf("the forward to %s has subject %q, want one office token", fwd.To, fwdSubject)
		}
		officeToken := tokens[0]

		// A stranger: the office's From, the forward's subject, her own envelope sender.
		if err := sendSMTP(t, addr, "mallory@evil.example", "urp@comune.fi.it",
			citizenMail("mallory-tok@evil.example", "Polizia Municipale <pm@comune.fi.it>", "urp@comune.fi.it", "R: "+fwdSubject, "Paga qui http://evil.example/pay")); err != nil {
			t.Fatal(err)
		}
		// The office, from a webmail that starts a fresh mail.
		if err := sendSMTP(t, addr, "pm@comune.fi.it", "urp@comune.fi.it",
			citizenMail("pm-tok-1@comune.fi.it", "Polizia Municipale <pm@comune.fi.it>", "urp@comune.fi.it", "R: "+fwdSubject, "Verbale annullato.")); err != nil {
			t.Fatal(err)
		}
		var annaNow channels.Contact
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+anna.ID, token, nil, &annaNow)
		bodies := []string{}
		for _, m := range annaNow.Messages {
			bodies = append(bodies, m.Body)
		}
		if strings.Contains(strings.Join(bodies, "\n"), "evil.example") {
			t.Fatalf("the stranger's mail with the office's From and token joined Anna's thread: %q", bodies)
		}
		if annaNow.Messages[len(annaNow.Messages)-1].Body != "Verbale annullato." || annaNow.Status != channels.StatusOpen {
			t.Fatalf("the office's answer by token did not join and reopen the thread: %s %q", annaNow.Status, bodies)
		}

		if code := harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+anna.ID+"/reply", token, map[string]any{"body": "Il verbale è annullato."}, nil); code/100 != 2 {
			t.Fatalf("reply: %d", code)
		}
		reply := relay.Wait(t, 2)[1]
		if reply.To != "anna@example.it" || strings.Contains(strings.ToUpper(string(reply.Data)), officeToken) {
			t.Fatalf("the reply to %s carries the office token %s:\n%s", reply.To, officeToken, reply.Data)
		}

		req, err := http.NewRequest(http.MethodGet, gw.URL+"/api/v1/citizens/"+annaNow.Citizen.ID+"/export", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, zipBytes := harness.Do(t, req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("export: %d %s", resp.StatusCode, zipBytes)
		}
		files := readZip(t, []byte(zipBytes))
		if !strings.Contains(files["contacts.json"], "Verbale annullato.") {
			t.Fatalf("the export lacks the office's answer:\n%s", files["contacts.json"])
		}
		for name, data := range files {
			if strings.Contains(strings.ToUpper(data), officeToken) {
				t.Errorf("the export's %s carries the office token %s", name, officeToken)
			}
		}
	})
}
