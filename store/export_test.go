package store

// Commits is how many transactions the store's writer has committed.
func Commits(s *Store) int64 { return s.writer.commits.Load() }

// QueuedWrites is how many writes wait for the writer's next batch.
func QueuedWrites(s *Store) int { return len(s.writer.reqs) + len(s.writer.bulk) }

// DataPath is the SQLite database file ("" on PostgreSQL).
func DataPath(s *Store) string { return s.path }

// StaleOffersQuery is the sweep's read of expired offers, for its plan.
const StaleOffersQuery = staleOffersQuery

// ProviderIDQueries are the lookups of a contact by its provider id, for their plans.
var ProviderIDQueries = map[string]string{
	"call state": callStateQuery + " FOR UPDATE OF c",
	"contact id": contactIDByExternalQuery,
}
