// Package alertstore holds the SQL of the alerts tables: alerts, subscribers and their consents,
// the comuni's API keys, and the fan-out of an alert to its recipients. The tables live in the
// store's database (store/migrations/0005_alerts.sql) and are migrated by store.
package alertstore

import "github.com/sportello/sportello/store"

// Store is the alerts tables' view of a store.
type Store struct {
	*store.Store
	// beforeCommit, set by tests only, runs at the end of some transactions (steps named
	// step...), where a test commits another replica's write in between.
	beforeCommit func(step string)
}

// New returns the alerts tables' queries over s.
func New(s *store.Store) *Store { return &Store{Store: s} }

// Steps where beforeCommit runs.
const (
	stepHold   = "hold"   // a callback held for a sid not yet recorded
	stepRecord = "record" // send results recorded
)

func (s *Store) atCommit(step string) {
	if s.beforeCommit != nil {
		s.beforeCommit(step)
	}
}
