package gateway

import (
	"testing"
	"time"

	"github.com/sportello/sportello/adapters/fax"
)

// TestFaxOverBudgetIsRetriedOnlyWhenStarved: a document whose tools used less than half its
// budget of CPU waited for a busy host and is tried again; one whose tools used more is costly
// in itself and is given up.
func TestFaxOverBudgetIsRetriedOnlyWhenStarved(t *testing.T) {
	for _, c := range []struct {
		cpu  time.Duration
		want bool
	}{
		{0, true},
		{2 * time.Second, true},
		{fax.DocumentBudget/2 - time.Millisecond, true},
		{fax.DocumentBudget / 2, false},
		{fax.DocumentBudget, false},
	} {
		if got := starvedOfCPU(c.cpu); got != c.want {
			t.Errorf("starvedOfCPU(%v) = %v, want %v", c.cpu, got, c.want)
		}
	}
}
