package desk

import (
	"fmt"
	"testing"

	"github.com/sportello/sportello/store"
)

// A merge another merge overtook (the store's ErrCitizenMerged) comes only out of a race: the
// desk checks beforehand that both citizens are there. Its answer, and the others', are these.
func TestMergeRefusalAnswers(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{store.ErrSelfMerge, 400, "self_merge"},
		{store.ErrNotFound, 404, "not_found"},
		{fmt.Errorf("store: citizen x: %w", store.ErrCitizenErased), 409, "citizen_erased"},
		{fmt.Errorf("store: citizen x: %w", store.ErrCitizenMerged), 409, "citizen_merged"},
	} {
		de, ok := mergeRefusal(tc.err).(*Error)
		if !ok || de.Status != tc.status || de.Code != tc.code {
			t.Errorf("%v: %+v, want %d %s", tc.err, mergeRefusal(tc.err), tc.status, tc.code)
		}
	}
}
