package desk

import (
	"context"
	"sync/atomic"

	"github.com/sportello/sportello/store"
)

// availability remembers that nobody was available, so that each new contact need not ask the
// database again (a read per contact, 4 % of the gateway's CPU in a burst of SMS at night). It
// is exact only where every presence change goes through this process: on SQLite, whose one
// gateway owns the database. With PostgreSQL, replicas change presences the others do not see,
// so it always asks.
//
// The answer "nobody" is kept with the generation read before the question; becoming available
// moves the generation on after its commit. A contact stored before that commit may still read
// the old answer, but the backlog drain that follows the change starts after it and takes that
// contact; a contact stored later sees the new generation and asks.
type availability struct {
	enabled bool
	gen     atomic.Uint64
	// nobodyAt is gen+1 when nobody was available at generation gen, 0 when unknown.
	nobodyAt atomic.Uint64
}

// anyAvailable reports whether any operator is available, asking the store only when the last
// answer "nobody" may be out of date.
func (a *availability) anyAvailable(ctx context.Context, s *store.Store) (bool, error) {
	if !a.enabled {
		return s.AnyOperatorAvailable(ctx)
	}
	g := a.gen.Load()
	if a.nobodyAt.Load() == g+1 {
		return false, nil
	}
	any, err := s.AnyOperatorAvailable(ctx)
	if err == nil && !any {
		a.nobodyAt.Store(g + 1)
	}
	return any, err
}

// becameAvailable is called after an operator's change to available has committed.
func (a *availability) becameAvailable() { a.gen.Add(1) }
