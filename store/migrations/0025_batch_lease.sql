-- A batch's lease names the worker's claim, not only its process: owner stays the process (its
-- heartbeat in alert_senders says whether it is alive), lease_id is a new id at every claim.
-- Two workers of one process (River ran the batch's job again while its first run still works
-- it) then cannot both hold the batch: renewals, recipient claims, release and finish match
-- lease_id. NULL while nobody holds the batch, and on batches claimed before this migration.
ALTER TABLE alert_batches ADD COLUMN lease_id TEXT;
