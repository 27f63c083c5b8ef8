-- An alert that stopped making progress says so: since when and why (stalled_at is NULL while
-- it progresses). A batch keeps when a recipient of it last reached an outcome (progress_at:
-- a batch's updated_at is its worker's lease, renewed even while the provider refuses), and
-- the last error its worker met, for the reason.
ALTER TABLE alerts ADD COLUMN stalled_at BIGINT;
ALTER TABLE alerts ADD COLUMN stall_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE alert_batches ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE alert_batches ADD COLUMN progress_at BIGINT;
