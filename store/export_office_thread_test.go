package store_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// The export goes to the citizen: it must not carry the Message-ID of our forward to the office,
// which is what lets the office's answer join the thread; not on the forward, not as its
// external id (the relay's), not in the office's answer's In-Reply-To or References. The
// citizen's own ids and ours to them stay, and so does the forward itself.
func TestExportCitizenLeavesOutTheForwardsMessageID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		annaContact, forward := forwardedToOffice(t, s, "multa-export@example.it")
		reply := sendOutbound(t, s, annaContact, channels.Email, "anna@example.it")
		var fwdRow string
		msgs, err := s.Messages(ctx, annaContact)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.MessageID == forward {
				fwdRow = m.ID
			}
		}
		if err := s.MarkOutbound(ctx, fwdRow, forward, store.OutSent, ""); err != nil {
			t.Fatal(err)
		}
		in := officeAnswer("pm-export@comune.fi.it", forward, "pm@comune.fi.it", channels.SenderNone)
		in.References = []string{"multa-export@example.it", forward}
		if r, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: in}); err != nil || r.ContactID != annaContact {
			t.Fatalf("the office's answer: %+v %v", r, err)
		}
		raw := exportedContacts(t, s, annaContact)
		if strings.Contains(string(raw), forward) {
			t.Errorf("the export holds the forward's Message-ID %s:\n%s", forward, raw)
		}
		for _, want := range []string{"multa-export@example.it", reply, "pm-export@comune.fi.it", `"to":"pm@comune.fi.it"`} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("the export lost %s:\n%s", want, raw)
			}
		}
	})
}

// exportedContacts is the contacts of the export of contactID's citizen, as JSON.
func exportedContacts(t *testing.T, s *store.Store, contactID string) []byte {
	t.Helper()
	ctx := context.Background()
	c, err := s.GetContact(ctx, contactID, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.ExportCitizen(ctx, c.Citizen.ID, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(d.Contacts)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
