-- Call recordings still to delete at the provider. An erasure and the retention of recordings
-- unlink a recording in the same transaction that queues its sid here; the deletion at Twilio
-- happens after the commit and is retried until Twilio says it is gone, so a failed request
-- (Twilio down, the process stopped) never leaves a recording there that nothing points to.
CREATE TABLE recording_deletions (
  sid TEXT PRIMARY KEY,
  queued_at BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT ''
);
