package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

func TestNormalizeOperatorPhone(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"+39 335 111 2222":       "+393351112222",
		"0557654321":             "+390557654321",
		"sip:anna@pbx.comune.it": "sip:anna@pbx.comune.it",
		"SIP:anna@pbx":           "sip:anna@pbx",
	} {
		got, err := store.NormalizeOperatorPhone(in)
		if err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"sip:", "sip:@pbx", "sip:anna", "sip:an na@pbx", "alice", "+39abc", "client:alice"} {
		if _, err := store.NormalizeOperatorPhone(bad); !errors.Is(err, store.ErrInvalidPhone) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestUserPhoneAndLiveCall(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.CreateUser(ctx, store.User{Username: "bob", Role: store.RoleOperator, PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
		if p, err := s.UserPhone(ctx, "bob"); err != nil || p != "" {
			t.Fatalf("new user's phone %q %v", p, err)
		}
		if err := s.SetUserPhone(ctx, "bob", "+393351112222"); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.UserPhone(ctx, "bob"); p != "+393351112222" {
			t.Fatalf("phone %q", p)
		}
		if err := s.SetUserPhone(ctx, "nobody", "+393351112222"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
		r, err := s.Ingest(ctx, store.IngestRequest{In: channels.InboundMessage{Channel: channels.Phone, ExternalID: "CA1",
			From: "+393471234567", To: "+39055055", Call: &channels.Call{Status: "queued"}, ReceivedAt: time.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		// One offer wins.
		if ok, err := s.SetCallStatusIf(ctx, r.ContactID, "queued", "offered"); err != nil || !ok {
			t.Fatalf("first offer: %v %v", ok, err)
		}
		if ok, _ := s.SetCallStatusIf(ctx, r.ContactID, "queued", "offered"); ok {
			t.Fatal("a second offer of the same call")
		}
		lc, err := s.LiveCallOf(ctx, r.ContactID)
		if err != nil || lc.Status != "offered" || lc.ExternalID != "CA1" || lc.Operator != "" {
			t.Fatalf("live call %+v %v", lc, err)
		}
		now := time.Now()
		if _, err := s.UpdateCall(ctx, channels.Phone, "CA1", store.CallUpdate{AnsweredAt: &now, Operator: "bob"}); err != nil {
			t.Fatal(err)
		}
		if lc, _ := s.LiveCallOf(ctx, r.ContactID); lc.Operator != "bob" {
			t.Fatalf("answered by %q", lc.Operator)
		}
	})
}

// FuzzNormalizeOperatorPhone: whatever an admin types, the answer is an E.164 number, a sip:
// URI, "" or ErrInvalidPhone, and a normalized value normalizes to itself.
func FuzzNormalizeOperatorPhone(f *testing.F) {
	for _, s := range []string{"", "+393351112222", "0557654321", "sip:anna@pbx", "sip:@", "client:x", "00393351112222", "sip:a b@c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := store.NormalizeOperatorPhone(in)
		if err != nil {
			if !errors.Is(err, store.ErrInvalidPhone) {
				t.Fatalf("%q: unexpected error %v", in, err)
			}
			return
		}
		if out != "" && !strings.HasPrefix(out, "sip:") && !strings.HasPrefix(out, "+") {
			t.Fatalf("%q became %q", in, out)
		}
		again, err := store.NormalizeOperatorPhone(out)
		if err != nil || again != out {
			t.Fatalf("%q -> %q -> %q %v", in, out, again, err)
		}
	})
}
