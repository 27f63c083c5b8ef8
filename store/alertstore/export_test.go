package alertstore

// PrepareChunkFor is prepareChunkFor, for tests.
var PrepareChunkFor = prepareChunkFor

// BeforeCommit makes f run at the end of the transactions that hold a callback ("hold") and
// record send results ("record"), before they commit.
func (s *Store) BeforeCommit(f func(step string)) { s.beforeCommit = f }
