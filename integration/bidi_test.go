package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

// Issue 8, lower risk: a sender's name carrying a right-to-left override (and invisible
// characters) is shown without them in the inbox, the contact and the citizen pages, so an
// operator reads what was stored the right way round.
func TestBidiControlsNotShownRaw(t *testing.T) {
	gw := harness.Start(t, harness.Options{})
	if resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", harness.SMSForm(newSid("SM"), "+393471235001", "+390552768000", "Buongiorno")); resp.StatusCode != 200 {
		t.Fatalf("inbound: %d %s", resp.StatusCode, body)
	}
	// A display name as a forged email or a merge could have stored it.
	const spoofed = "Mario \u202eissoR\u202c\u200b \u2066Bianchi\u2069\ufeff"
	var contactID, citizenID string
	if err := gw.G.Store.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT id, citizen_id FROM contacts").Scan(&contactID, &citizenID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE contacts SET from_name = ? WHERE id = ?", spoofed, contactID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE citizens SET name = ? WHERE id = ?", spoofed, citizenID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	c, _ := alertPageClient(t, gw, "sup", store.RoleSupervisor)
	for _, path := range []string{"/inbox", "/inbox/contacts/" + contactID, "/inbox/citizens/" + citizenID} {
		resp, body := alertPage(t, c, "GET", gw.URL+path, nil, "")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		if i := strings.IndexAny(body, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200e\u200f\ufeff"); i >= 0 {
			t.Fatalf("%s shows a control character raw: %q", path, body[max(0, i-40):min(len(body), i+40)])
		}
		if !strings.Contains(body, "<bdi>Mario issoR Bianchi</bdi>") {
			t.Fatalf("%s does not show the name, isolated", path)
		}
	}
}
