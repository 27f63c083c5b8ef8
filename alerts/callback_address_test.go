package alerts

import (
	"net/url"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store/alertstore"
)

// The recipient a fan-out message's callback address names is the one read back from it, and
// addresses that name none (an operator's reply, a subscription's confirmation, a malformed
// query) are no alert's.
func TestCallbackAddressNamesItsRecipient(t *testing.T) {
	s := &Service{o: Options{StatusCallback: "https://comune.example/webhooks/twilio/status"}}
	ref := alertstore.RecipientRef{AlertID: "01a2377b-4c49-73eb-9cf0-d4508902aa0b", Seq: 41}
	u, err := url.Parse(s.statusCallbackFor(ref))
	if err != nil {
		t.Fatal(err)
	}
	if u.Path != "/webhooks/twilio/status" {
		t.Fatalf("callback path %q", u.Path)
	}
	if got, ok := recipientOfCallback(u.RawQuery); !ok || got != ref {
		t.Fatalf("read back %+v %v, want %+v", got, ok, ref)
	}
	for _, q := range []string{"", channels.ReplyStatusQuery, "of=alert", "of=alert&alert=a", "of=alert&alert=a&seq=-1", "of=alert&alert=a&seq=x", "of=alert&alert=&seq=1", "of=alert&alert=a&seq=1%zz"} {
		if got, ok := recipientOfCallback(q); ok {
			t.Errorf("%q names %+v", q, got)
		}
	}
	if (&Service{}).statusCallbackFor(ref) != "" {
		t.Error("without a callback address configured, a message must ask for none")
	}
}

func FuzzRecipientOfCallback(f *testing.F) {
	f.Add("of=alert&alert=01a2377b-4c49-73eb-9cf0-d4508902aa0b&seq=41")
	f.Add("of=reply")
	f.Add("of=alert&alert=a%26b&seq=9223372036854775807")
	f.Fuzz(func(t *testing.T, query string) {
		ref, ok := recipientOfCallback(query)
		if !ok {
			return
		}
		if ref.AlertID == "" || ref.Seq < 0 {
			t.Fatalf("%q named %+v", query, ref)
		}
		if again, ok := recipientOfCallback(alertCallbackQuery(ref)); !ok || again != ref {
			t.Fatalf("%+v does not survive its own address: %+v %v", ref, again, ok)
		}
	})
}
