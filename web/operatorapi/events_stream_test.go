package operatorapi_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/operatorapi"
)

// The stream sends heartbeats, only in-scope contacts, and ends when the client goes.
func TestEventStreamHeartbeatScopeAndEnd(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, store.User{Username: "emp", Role: store.RoleOperator, PasswordHash: "x", Comuni: []string{"empoli"}})
	if err != nil {
		t.Fatal(err)
	}
	token, err := s.CreateToken(ctx, u.ID, store.TokenAPI, 0)
	if err != nil {
		t.Fatal(err)
	}
	ingest := func(sid, comune string) string {
		r, err := s.Ingest(ctx, store.IngestRequest{Comune: comune, In: channels.InboundMessage{Channel: channels.SMS, ExternalID: sid,
			From: "+39347" + sid[2:], To: "+39055055", Body: "x"}})
		if err != nil {
			t.Fatal(err)
		}
		return r.ContactID
	}
	firenze, empoli := ingest("SM0000001", "firenze"), ingest("SM0000002", "empoli")
	hub := events.NewHub()
	e := echo.New()
	(&operatorapi.Actions{Store: s, Auth: &auth.Authenticator{Store: s}, Hub: hub, Heartbeat: 50 * time.Millisecond}).Register(e)
	srv := httptest.NewServer(e)
	defer srv.Close()

	cctx, cancel := context.WithCancel(ctx)
	req, _ := http.NewRequestWithContext(cctx, "GET", srv.URL+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(want string) string {
		t.Helper()
		timeout := time.After(3 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("stream ended waiting for %q", want)
				}
				if strings.HasPrefix(l, want) {
					return l
				}
			case <-timeout:
				t.Fatalf("no %q line", want)
			}
		}
	}
	next(": connected")
	next(": heartbeat")
	for _, e := range []events.Event{
		{Type: events.ContactCreated, ContactID: firenze, Comune: "firenze"},
		{Type: events.ContactCreated, ContactID: "no-such-contact"},
		{Type: events.QueueChanged, Comune: "firenze"},
		{Type: events.ContactUpdated, ContactID: empoli, Comune: "empoli"},
	} {
		if err := hub.Publish(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if l := next("event: "); l != "event: contact.updated" {
		t.Fatalf("first event seen by an Empoli operator: %s", l)
	}
	if l := next("data: "); !strings.Contains(l, empoli) || strings.Contains(l, firenze) {
		t.Fatalf("data: %s", l)
	}
	cancel()
	deadline := time.Now().Add(3 * time.Second)
	for hub.Subscribers() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the handler kept its subscription after the client left")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
