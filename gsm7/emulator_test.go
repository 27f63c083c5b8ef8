package gsm7_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/adapters/twilio"
	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/gsm7"
	"github.com/sportello/sportello/integration/twilioemu"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "0123456789abcdef0123456789abcdef"
)

// inProcess hands requests straight to the emulator, for fast fuzzing.
type inProcess struct{ h http.Handler }

func (p inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	p.h.ServeHTTP(w, r)
	return w.Result(), nil
}

// FuzzSegmentCountAgreesWithEmulator holds SegmentCount against the emulator's independent
// count, through a real Send.
func FuzzSegmentCountAgreesWithEmulator(f *testing.F) {
	for _, s := range []string{"ciao", "È", strings.Repeat("€", 81), strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152), "😀x", "\xff\xfe"} {
		f.Add(s)
	}
	emu := twilioemu.New(twilioemu.Options{AccountSID: testSID, AuthToken: testToken, CallbackDelay: time.Hour})
	f.Cleanup(func() { _ = emu.Close() })
	s, err := twilio.NewSender(twilio.SenderOptions{AccountSID: testSID, AuthToken: testToken, From: "+390550550",
		APIBaseURL: "http://emulator.invalid", HTTPClient: &http.Client{Transport: inProcess{emu}, Timeout: 5 * time.Second}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if body == "" || len([]rune(body)) > 1600 {
			return
		}
		res, err := s.Send(context.Background(), channels.OutboundMessage{Channel: channels.SMS, To: "+393471234567", Body: body})
		if err != nil {
			t.Fatal(err)
		}
		m, ok := emu.Message(res.ExternalID)
		if !ok {
			t.Fatal("message not at the emulator")
		}
		n, enc := gsm7.SegmentCount(body)
		if m.Body != body {
			t.Fatalf("body changed on the way: %q -> %q", body, m.Body)
		}
		if n != m.NumSegments || enc != m.Encoding {
			t.Fatalf("%q: SegmentCount %d %s, emulator %d %s", body, n, enc, m.NumSegments, m.Encoding)
		}
	})
}
