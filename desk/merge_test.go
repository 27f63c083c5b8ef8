package desk_test

import (
	"context"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// An erased citizen takes part in no merge, on either side: 409 citizen_erased, and nothing
// moves.
func TestMergeWithErasedCitizenIsConflict(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		sup := f.user("sup", store.RoleSupervisor)
		live := f.text(mobile, "+390552768000", "multa")
		gone, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "erased1@y", From: "mario@example.it",
			To: "urp@comune.fi.it", Body: "ztl"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.d.EraseCitizen(ctx, f.user("dpo", store.RoleAdmin), gone.CitizenID, "richiesta"); err != nil {
			t.Fatal(err)
		}
		for _, pair := range [][2]string{{live.CitizenID, gone.CitizenID}, {gone.CitizenID, live.CitizenID}} {
			if st, code := deskCode(t, f.d.Merge(ctx, sup, pair[0], pair[1])); st != 409 || code != "citizen_erased" {
				t.Errorf("merging %s into %s: %d %s, want 409 citizen_erased", pair[1], pair[0], st, code)
			}
		}
		c, err := s.GetCitizen(ctx, live.CitizenID, store.Scope{})
		if err != nil || len(c.Contacts) != 1 || len(c.Identities) != 1 {
			t.Fatalf("the live citizen after the refused merges: %+v %v", c, err)
		}
	})
}
