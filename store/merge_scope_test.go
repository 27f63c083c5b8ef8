package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// A user limited to some comuni merges only citizens whose every contact is in them: a merge
// would move another comune's contacts and show its operators this citizen's addresses.
func TestScopedMergeStaysInItsComuni(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sms, _ := mergePair(t, s, "scope-1")
		empoli := raceMail("<scope-2@x>")
		empoli.Comune = "empoli"
		empoli.In.From = "altro@example.org"
		other, err := s.Ingest(ctx, empoli)
		if err != nil {
			t.Fatal(err)
		}
		firenze := store.Scope{Comuni: []string{"firenze"}}
		if err := s.MergeCitizens(ctx, sms.CitizenID, other.CitizenID, firenze); !errors.Is(err, store.ErrMergeOutOfScope) {
			t.Fatalf("a Firenze operator merged an Empoli citizen: %v", err)
		}
		if err := s.MergeCitizens(ctx, other.CitizenID, sms.CitizenID, store.Scope{Comuni: []string{"empoli"}}); !errors.Is(err, store.ErrMergeOutOfScope) {
			t.Fatalf("an Empoli operator merged a Firenze citizen: %v", err)
		}
		c, err := s.GetCitizen(ctx, other.CitizenID, store.Scope{})
		if err != nil || len(c.Contacts) != 1 || len(c.Identities) != 1 {
			t.Fatalf("a refused merge moved something: %+v %v", c, err)
		}
		if err := s.MergeCitizens(ctx, sms.CitizenID, other.CitizenID, store.Scope{Comuni: []string{"firenze", "empoli"}}); err != nil {
			t.Fatalf("an operator of both comuni: %v", err)
		}
	})
}
