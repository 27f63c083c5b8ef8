package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

// Issue 9: the early-callback hold works across replicas. Twilio may report a message's
// delivery before its REST answer reaches the replica that sent it, and to any replica. Here a
// proxy in front of the emulator delivers the "delivered" callback to the other replica and
// waits for its 200 before the sending replica gets the answer with the MessageSid: the message
// must still end up delivered (before: the other replica kept the callback in its own memory
// and the sender never saw it).
func TestEarlyDeliveryCallbackAcrossReplicas(t *testing.T) {
	emu, _ := harness.NewEmulator(t) // its own callbacks go nowhere: only ours below count
	target, err := url.Parse(emu.URL())
	if err != nil {
		t.Fatal(err)
	}
	early := make(chan string, 4)
	// Either replica's worker may send the reply: each one's proxy calls the other one back.
	var urlA, urlB atomic.Value
	proxyTo := func(other *atomic.Value) string {
		proxy := httputil.NewSingleHostReverseProxy(target)
		proxy.ModifyResponse = func(resp *http.Response) error {
			if resp.Request.Method != http.MethodPost || !strings.HasSuffix(resp.Request.URL.Path, "/Messages.json") || resp.StatusCode != http.StatusCreated {
				return nil
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			resp.Body = io.NopCloser(bytes.NewReader(body))
			var m struct {
				Sid string `json:"sid"`
			}
			if err := json.Unmarshal(body, &m); err != nil {
				return err
			}
			form := url.Values{"MessageSid": {m.Sid}, "MessageStatus": {"delivered"}, "AccountSid": {harness.AccountSID}}
			req, _ := http.NewRequest(http.MethodPost, other.Load().(string)+"/webhooks/twilio/status", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", harness.Signature(harness.AuthToken, harness.PublicURL+"/webhooks/twilio/status", form))
			cb, err := harness.Client.Do(req)
			if err != nil {
				return err
			}
			cb.Body.Close()
			early <- m.Sid + " " + cb.Status
			return nil
		}
		srv := httptest.NewServer(proxy)
		t.Cleanup(srv.Close)
		return strings.Replace(harness.BaseYAML, "api_base_url: "+harness.TwilioAPIPlaceholder, "api_base_url: "+srv.URL, 1)
	}
	b := harness.Start(t, harness.Options{Dialect: store.Postgres, Replace: proxyTo(&urlA)})
	urlB.Store(b.URL)
	a := harness.Start(t, harness.Options{Dialect: store.Postgres, DatabaseURL: b.DatabaseURL, Replace: proxyTo(&urlB)})
	urlA.Store(a.URL)

	op := a.User(t, "op", store.RoleAdmin)
	citizen := "+393471234001"
	if resp, body := harness.PostTwilio(t, a.URL, "/webhooks/twilio/sms", harness.SMSForm(newSid("SM"), citizen, "+390552768000", "A che ora apre l'ufficio?")); resp.StatusCode != 200 {
		t.Fatalf("inbound: %d %s", resp.StatusCode, body)
	}
	var list struct {
		Items []channels.Contact `json:"items"`
	}
	if code := harness.API(t, "GET", a.URL+"/api/v1/contacts", op, nil, &list); code != 200 || len(list.Items) != 1 {
		t.Fatalf("contacts: %d %+v", code, list)
	}
	cu := a.URL + "/api/v1/contacts/" + list.Items[0].ID
	if code := harness.API(t, "POST", cu+"/reply", op, map[string]string{"body": "Alle 8:30."}, nil); code != 202 {
		t.Fatalf("reply: %d", code)
	}
	select {
	case got := <-early:
		if !strings.HasSuffix(got, "200 OK") {
			t.Fatalf("early callback to the other replica: %s", got)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no replica sent the reply (%d requests at the emulator)", emu.Requests())
	}
	waitUntil(t, 20*time.Second, "the reply delivered", func() bool {
		var full channels.Contact
		harness.API(t, "GET", cu, op, nil, &full)
		return len(full.Messages) == 2 && full.Messages[1].Status == "delivered"
	})
}
