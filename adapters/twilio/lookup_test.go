package twilio

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/twilioemu"
)

// MessageLookup finds in Twilio's message list what a Sender sent, by number and exact text.
func TestMessageLookupFindsWhatWasSent(t *testing.T) {
	emu := twilioemu.New(twilioemu.Options{AccountSID: sendTestSID, AuthToken: sendTestToken, OwnedNumbers: []string{sendTestFrom}})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	defer func() { _ = emu.Close() }()
	s, err := NewSender(SenderOptions{AccountSID: sendTestSID, AuthToken: sendTestToken, From: sendTestFrom, APIBaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	since := time.Now()
	ctx := context.Background()
	res, err := s.Send(ctx, sms(sendTestTo, "Il mercato si fa."))
	if err != nil {
		t.Fatal(err)
	}
	l := &MessageLookup{BaseURL: srv.URL, AccountSID: sendTestSID, AuthToken: sendTestToken}
	sids, err := l.FindSent(ctx, sendTestTo, "Il mercato si fa.", since)
	if err != nil || len(sids) != 1 || sids[0] != res.ExternalID {
		t.Fatalf("FindSent = %v, %v; want [%s]", sids, err, res.ExternalID)
	}
	for name, q := range map[string][2]string{"other text": {sendTestTo, "Il mercato non si fa."}, "other number": {"+393479999999", "Il mercato si fa."}} {
		if sids, err := l.FindSent(ctx, q[0], q[1], since); err != nil || len(sids) != 0 {
			t.Errorf("%s: FindSent = %v, %v; want none", name, sids, err)
		}
	}
	if sids, err := l.FindSent(ctx, sendTestTo, "Il mercato si fa.", since.Add(time.Hour)); err != nil || len(sids) != 0 {
		t.Errorf("a message older than since: FindSent = %v, %v; want none", sids, err)
	}
	bad := &MessageLookup{BaseURL: srv.URL, AccountSID: sendTestSID, AuthToken: "wrongtoken"}
	if _, err := bad.FindSent(ctx, sendTestTo, "x", since); err == nil {
		t.Error("a refused lookup (wrong credentials) returned no error")
	}
}
