package appio

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/appioemu"
)

const (
	cfAllowed = "RSSMRA85T10A562S"
	cfRefuses = "BNCLRA80A41F205G"
	cfNone    = "VRDGPP80A01H501U"
)

func newPair(t *testing.T, o Options) (*Client, *appioemu.Emulator) {
	t.Helper()
	emu := appioemu.New(appioemu.Options{Services: map[string]string{"k-firenze": "firenze", "k-prato": "prato"}})
	emu.AddProfile(cfAllowed)
	emu.AddProfile(cfRefuses, "firenze")
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	o.BaseURL = srv.URL
	o.Keys = map[string]string{"firenze": "k-firenze", "prato": "k-prato", "wrong": "nope"}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c, emu
}

func TestProfilesSayWhoAcceptsTheService(t *testing.T) {
	c, _ := newPair(t, Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		comune, cf string
		want       bool
	}{{"firenze", cfAllowed, true}, {"firenze", cfRefuses, false}, {"prato", cfRefuses, true}, {"firenze", cfNone, false}} {
		got, err := c.Allowed(ctx, tc.comune, tc.cf)
		if err != nil || got != tc.want {
			t.Errorf("Allowed(%s, %s) = %v, %v; want %v", tc.comune, tc.cf, got, err, tc.want)
		}
	}
	_, err := c.Allowed(ctx, "wrong", cfAllowed)
	var se *channels.SendError
	if !errors.As(err, &se) || se.Code != http.StatusUnauthorized || !se.Permanent {
		t.Errorf("a wrong key: %v", err)
	}
	if _, err := c.Allowed(ctx, "nokey", cfAllowed); !errors.As(err, &se) || !se.Permanent {
		t.Errorf("a comune without a key: %v", err)
	}
}

func TestSendAndStatus(t *testing.T) {
	c, emu := newPair(t, Options{})
	ctx := context.Background()
	subj, md := channels.FitAppIO("Avviso", "Strada chiusa", "Comune di Firenze")
	id, err := c.SendIO(ctx, channels.AppIOMessage{Comune: "firenze", FiscalCode: cfAllowed, Subject: subj, Markdown: md})
	if err != nil || id == "" {
		t.Fatalf("SendIO: %q, %v", id, err)
	}
	if got := emu.Messages(); len(got) != 1 || got[0].Subject != subj || got[0].Service != "firenze" {
		t.Fatalf("the emulator holds %+v", got)
	}
	st, err := c.IOStatus(ctx, "firenze", cfAllowed, id)
	if err != nil || st != channels.AppIOProcessed {
		t.Fatalf("IOStatus = %q, %v", st, err)
	}
	// Out of bounds: refused here, permanently, and App IO is never asked.
	if _, err := c.SendIO(ctx, channels.AppIOMessage{Comune: "firenze", FiscalCode: cfAllowed, Subject: "short", Markdown: md}); err == nil {
		t.Fatal("a 5-character subject was sent")
	}
	// The profile that refuses the service: App IO says 403, a permanent refusal.
	_, err = c.SendIO(ctx, channels.AppIOMessage{Comune: "firenze", FiscalCode: cfRefuses, Subject: subj, Markdown: md})
	var se *channels.SendError
	if !errors.As(err, &se) || !se.Permanent || se.Code != http.StatusForbidden {
		t.Fatalf("a refused recipient: %v", err)
	}
	// As a reply sender: From is the comune, To the fiscal code.
	res, err := c.Send(ctx, channels.OutboundMessage{Channel: channels.AppIO, From: "firenze", To: cfAllowed, Subject: subj, Body: md})
	if err != nil || res.ExternalID == "" {
		t.Fatalf("Send: %+v, %v", res, err)
	}
	if _, err := c.Send(ctx, channels.OutboundMessage{Channel: channels.AppIO, From: "firenze", To: cfRefuses, Subject: subj, Body: md}); !errors.As(err, &se) || !se.Permanent {
		t.Fatalf("a reply to a refusing profile: %v", err)
	}
	if n := len(emu.Messages()); n != 2 {
		t.Fatalf("the emulator accepted %d messages, want 2", n)
	}
}

func TestThrottlingIsWaitedOutThenGivenBack(t *testing.T) {
	c, emu := newPair(t, Options{MaxRetryAfter: 2 * time.Second, MaxThrottled: 3})
	ctx := context.Background()
	subj, md := channels.FitAppIO("Avviso di prova", strings.Repeat("testo ", 20), "Comune di Firenze")
	emu.Throttle(2)
	start := time.Now()
	id, err := c.SendIO(ctx, channels.AppIOMessage{Comune: "firenze", FiscalCode: cfAllowed, Subject: subj, Markdown: md})
	if err != nil || id == "" {
		t.Fatalf("after two 429s: %q, %v", id, err)
	}
	if waited := time.Since(start); waited < 2*time.Second {
		t.Fatalf("Retry-After 1s twice was not respected: %v", waited)
	}
	emu.Throttle(10)
	_, err = c.SendIO(ctx, channels.AppIOMessage{Comune: "firenze", FiscalCode: cfAllowed, Subject: subj, Markdown: md})
	var se *channels.SendError
	if !errors.As(err, &se) || se.Permanent || se.Code != http.StatusTooManyRequests {
		t.Fatalf("throttled past the bound: %v", err)
	}
	if n := len(emu.Messages()); n != 1 {
		t.Fatalf("the emulator accepted %d messages, want 1", n)
	}
}

func TestFitAppIO(t *testing.T) {
	s, m := channels.FitAppIO("Ciao", "x", "Comune di Firenze")
	if n := len([]rune(s)); n < 10 || n > 120 {
		t.Errorf("subject %q", s)
	}
	if n := len([]rune(m)); n < 80 {
		t.Errorf("markdown %q", m)
	}
	s, m = channels.FitAppIO(strings.Repeat("è", 300), strings.Repeat("à", 20000), "")
	if n := len([]rune(s)); n != 120 || !strings.HasSuffix(s, "…") {
		t.Errorf("subject of %d", n)
	}
	if n := len([]rune(m)); n != 10000 {
		t.Errorf("markdown of %d", n)
	}
	long := strings.Repeat("a", 100)
	if _, m := channels.FitAppIO("Un oggetto lungo", long, "X"); m != long {
		t.Errorf("a text within bounds was changed")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{"": 0, "3": 3 * time.Second, "-1": 0, "x": 0,
		now.Add(5 * time.Second).Format(http.TimeFormat): 5 * time.Second} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

// A reply whose send gets no answer is not tried again (App IO may have it); one that could not
// even connect is, since nothing was sent.
func TestReplyWithoutAnAnswerIsNotRetried(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/profiles" {
			_, _ = w.Write([]byte(`{"sender_allowed": true}`))
			return
		}
		<-block
	}))
	defer srv.Close()
	defer close(block)
	c, err := New(Options{BaseURL: srv.URL, Keys: map[string]string{"firenze": "k"}, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), channels.OutboundMessage{Channel: channels.AppIO, From: "firenze", To: cfAllowed, Subject: "Oggetto di prova", Body: "testo"})
	var se *channels.SendError
	if !errors.As(err, &se) || !se.Permanent || !strings.Contains(se.Message, "not sent again") {
		t.Fatalf("a send without an answer: %v", err)
	}
	down, err := New(Options{BaseURL: "http://127.0.0.1:1", Keys: map[string]string{"firenze": "k"}, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = down.Send(context.Background(), channels.OutboundMessage{Channel: channels.AppIO, From: "firenze", To: cfAllowed, Subject: "Oggetto di prova", Body: "testo"})
	if !errors.As(err, &se) || se.Permanent {
		t.Fatalf("App IO unreachable must be retried: %v", err)
	}
}
