package twilio

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/sportello/sportello/templates"
)

func TestDeleteRecording(t *testing.T) {
	const sid = "RE0123456789abcdef0123456789abcdef"
	var mu sync.Mutex
	var got []string
	status := http.StatusNoContent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+user+":"+pass)
		st := status
		mu.Unlock()
		w.WriteHeader(st)
	}))
	defer srv.Close()
	text, err := templates.ParseText()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCalls(CallsOptions{AccountSID: "AC123", AuthToken: "token123", APIBaseURL: srv.URL, Text: text, RingSeconds: 20})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.DeleteRecording(ctx, sid); err != nil {
		t.Fatal(err)
	}
	if want := "DELETE /2010-04-01/Accounts/AC123/Recordings/" + sid + ".json AC123:token123"; len(got) != 1 || got[0] != want {
		t.Fatalf("requests %q, want %q", got, want)
	}
	mu.Lock()
	status = http.StatusNotFound
	mu.Unlock()
	if err := c.DeleteRecording(ctx, sid); err != nil {
		t.Fatalf("a recording already gone: %v", err)
	}
	mu.Lock()
	status = http.StatusInternalServerError
	mu.Unlock()
	if err := c.DeleteRecording(ctx, sid); err == nil {
		t.Fatal("a 500 was taken for a deletion")
	}
	if err := c.DeleteRecording(ctx, "../../Calls"); err == nil || len(got) != 3 {
		t.Fatalf("a bad sid reached the network: %v, %d requests", err, len(got))
	}
}
