// Package alertstore holds the SQL of the alerts tables: alerts, subscribers and their consents,
// the comuni's API keys, and the fan-out of an alert to its recipients. The tables live in the
// store's database (store/migrations/0005_alerts.sql) and are migrated by store.
package alertstore

import "github.com/sportello/sportello/store"

// Store is the alerts tables' view of a store.
type Store struct{ *store.Store }

// New returns the alerts tables' queries over s.
func New(s *store.Store) *Store { return &Store{s} }
