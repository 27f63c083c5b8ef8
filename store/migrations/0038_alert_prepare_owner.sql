-- Which process is writing a starting alert's audience (its sender id, whose heartbeat is in
-- alert_senders). A preparation whose process died was resumed only after a minute without a
-- chunk; with its owner known, it is resumed once the owner's heartbeat is stale (10 s), as
-- a dead process's batches are.
ALTER TABLE alerts ADD COLUMN prepare_owner TEXT;
