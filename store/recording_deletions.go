package store

import (
	"context"
)

// queueRecordingDeletions queues, in tx, the provider's sids of the recordings of the contacts
// matching where (over contacts' columns), before they are unlinked.
func queueRecordingDeletions(ctx context.Context, tx *Tx, now int64, where string, args []any) error {
	// The WHERE of the SELECT is what SQLite needs to read ON CONFLICT as the upsert's.
	_, err := tx.Exec(ctx, "INSERT INTO recording_deletions (sid, queued_at) SELECT call_recording_sid, ? FROM contacts WHERE call_recording_sid IS NOT NULL AND "+
		where+" ON CONFLICT (sid) DO NOTHING", append([]any{now}, args...)...)
	return err
}

// RecordingDeletion is a recording to delete at the provider.
type RecordingDeletion struct {
	SID      string
	Attempts int
	Error    string
}

// RecordingDeletions lists up to limit recordings still to delete at the provider: those tried
// the fewest times first, so one the provider keeps refusing cannot hold up the others, then the
// oldest queued.
func (s *Store) RecordingDeletions(ctx context.Context, limit int) ([]RecordingDeletion, error) {
	rows, err := s.query(ctx, "SELECT sid, attempts, error FROM recording_deletions ORDER BY attempts, queued_at, sid LIMIT ?", limit)
	return Collect(rows, err, func(r interface{ Scan(...any) error }) (RecordingDeletion, error) {
		var d RecordingDeletion
		return d, r.Scan(&d.SID, &d.Attempts, &d.Error)
	})
}

// QueuedRecordingDeletions returns which of sids are queued for deletion at the provider.
func (s *Store) QueuedRecordingDeletions(ctx context.Context, sids []string) ([]string, error) {
	if len(sids) == 0 {
		return nil, nil
	}
	return strings1(s.query(ctx, "SELECT sid FROM recording_deletions WHERE sid IN ("+placeholders(len(sids))+") ORDER BY sid", anys(sids)...))
}

// RecordingDeleted forgets a recording the provider no longer holds.
func (s *Store) RecordingDeleted(ctx context.Context, sid string) error {
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM recording_deletions WHERE sid = ?", sid)
		return err
	})
}

// RecordingDeletionFailed keeps why a deletion at the provider failed; it is tried again later.
func (s *Store) RecordingDeletionFailed(ctx context.Context, sid, reason string) error {
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.Exec(ctx, "UPDATE recording_deletions SET attempts = attempts + 1, error = ? WHERE sid = ?", ErrorText(reason), sid)
		return err
	})
}
