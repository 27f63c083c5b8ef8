package cti_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/sportello/sportello/adapters/cti"
	"github.com/sportello/sportello/channels"
)

const (
	legacyToken = "legacy-token-0123456789"
	nordToken   = "nord-token-0123456789"
	sudToken    = "sud-token-0123456789"
)

// recordingSink keeps what reached it; every call is known.
type recordingSink struct {
	mu      sync.Mutex
	calls   []channels.InboundMessage
	updates []channels.CallEvent
}

func (s *recordingSink) Receive(_ context.Context, in channels.InboundMessage) (channels.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, in)
	return channels.Receipt{ContactID: "c1", New: true}, nil
}

func (s *recordingSink) UpdateCall(_ context.Context, _ channels.Kind, _ string, ev channels.CallEvent) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates = append(s.updates, ev)
	return "c1", nil
}

func (s *recordingSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls) + len(s.updates)
}

func (s *recordingSink) lastCall() channels.InboundMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[len(s.calls)-1]
}

// syncBuffer is a log destination tests read while the handler writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func threeSources(sink *recordingSink, logs *syncBuffer) cti.Options {
	return cti.Options{
		Sources: []cti.Source{
			{Token: legacyToken},
			{Name: "pbx-nord", Token: nordToken, Networks: []netip.Prefix{netip.MustParsePrefix("10.1.2.0/24")}},
			{Name: "pbx-sud", Token: sudToken},
		},
		Operators: fakeOperators{}, Sink: sink, Calls: sink,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	}
}

const newCall = `{"event": "newCall", "callId": "pbx-1", "from": "+393471234567", "to": "+39055055"}`

// Each PBX posts with its own token: a token no source has is 401 whatever it resembles, and
// the unnamed source of cti.token still works, from anywhere.
func TestEachSourceHasItsOwnToken(t *testing.T) {
	sink, logs := &recordingSink{}, &syncBuffer{}
	e := serve(t, threeSources(sink, logs), false)
	for _, token := range []string{"", "wrong", nordToken + "x", nordToken[:len(nordToken)-1], strings.ToUpper(sudToken)} {
		if rec := postAs(e, token, "10.1.2.5:5060", newCall); rec.Code != http.StatusUnauthorized {
			t.Errorf("token %q: %d %s, want 401", token, rec.Code, rec.Body)
		}
	}
	if rec := postAs(e, "", "10.1.2.5:5060", newCall, "Authorization", "Basic "+nordToken); rec.Code != http.StatusUnauthorized {
		t.Errorf("a Basic credential: %d, want 401", rec.Code)
	}
	if n := sink.count(); n != 0 {
		t.Fatalf("refused requests reached the sink %d times", n)
	}
	for _, c := range []struct{ token, remote, note, logged string }{
		{legacyToken, "198.51.100.7:5060", "", "source=cti.token"},
		{sudToken, "198.51.100.8:5060", `chiamata segnalata dal centralino "pbx-sud"`, "source=pbx-sud"},
		{nordToken, "10.1.2.5:5060", `chiamata segnalata dal centralino "pbx-nord"`, "source=pbx-nord"},
	} {
		rec := postAs(e, c.token, c.remote, newCall)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", c.logged, rec.Code, rec.Body)
		}
		notes := strings.Join(sink.lastCall().Notes, "\n")
		if notes != c.note {
			t.Errorf("%s: the call's notes are %q, want %q", c.logged, notes, c.note)
		}
		if !strings.Contains(logs.String(), `msg="cti event" `+c.logged+" event=newCall call_id=pbx-1") {
			t.Errorf("the log does not say %s sent the event:\n%s", c.logged, logs)
		}
	}
}

// A source bound to networks is refused (403, logged with its name) from anywhere else, with
// the client address read as the gateway reads it: X-Forwarded-For only behind a trusted
// proxy (http.trust_proxy), never from a client that writes it itself.
func TestSourceOnlyFromItsNetworks(t *testing.T) {
	for _, c := range []struct {
		name       string
		trustProxy bool
		remote     string
		header     []string
		want       int
	}{
		{"inside", false, "10.1.2.5:5060", nil, http.StatusOK},
		{"inside, IPv4-mapped", false, "[::ffff:10.1.2.5]:5060", nil, http.StatusOK},
		{"outside", false, "192.0.2.9:5060", nil, http.StatusForbidden},
		{"outside, IPv6", false, "[2001:db8::1]:5060", nil, http.StatusForbidden},
		{"outside, claiming inside", false, "192.0.2.9:5060", []string{"X-Forwarded-For", "10.1.2.5", "X-Real-IP", "10.1.2.5"}, http.StatusForbidden},
		{"behind the proxy, inside", true, "127.0.0.1:40000", []string{"X-Forwarded-For", "10.1.2.5"}, http.StatusOK},
		{"behind the proxy, outside", true, "127.0.0.1:40000", []string{"X-Forwarded-For", "192.0.2.9"}, http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink, logs := &recordingSink{}, &syncBuffer{}
			e := serve(t, threeSources(sink, logs), c.trustProxy)
			rec := postAs(e, nordToken, c.remote, newCall, c.header...)
			if rec.Code != c.want {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, c.want)
			}
			if c.want == http.StatusOK {
				return
			}
			if n := sink.count(); n != 0 {
				t.Errorf("a refused event reached the sink %d times", n)
			}
			if !strings.Contains(rec.Body.String(), "pbx-nord may not post from") {
				t.Errorf("the 403 does not say why: %s", rec.Body)
			}
			if !strings.Contains(logs.String(), "outside its networks") || !strings.Contains(logs.String(), "source=pbx-nord") {
				t.Errorf("the refusal is not logged with the source:\n%s", logs)
			}
			// The same address with another source's token is let in: the networks are the
			// source's own.
			if rec := postAs(e, sudToken, c.remote, newCall, c.header...); rec.Code != http.StatusOK {
				t.Errorf("pbx-sud from the same address: %d %s", rec.Code, rec.Body)
			}
		})
	}
}

// Without any source the endpoint lets nobody in; a source without a token is a wiring
// mistake caught at start.
func TestNoSourceNoEntry(t *testing.T) {
	sink := &recordingSink{}
	e := serve(t, cti.Options{Operators: fakeOperators{}, Sink: sink, Calls: sink}, false)
	for _, token := range []string{"", "anything-at-all-0123"} {
		if rec := postAs(e, token, "127.0.0.1:1", newCall); rec.Code != http.StatusUnauthorized {
			t.Errorf("token %q: %d, want 401", token, rec.Code)
		}
	}
	if _, err := cti.New(cti.Options{Sources: []cti.Source{{Name: "x"}}, Operators: fakeOperators{}, Sink: sink, Calls: sink}); err == nil {
		t.Error("a source without a token was accepted")
	}
	if _, err := cti.New(cti.Options{Sources: []cti.Source{{Token: legacyToken}}, Sink: sink, Calls: sink}); err == nil {
		t.Error("a handler that cannot check users was accepted")
	}
}
