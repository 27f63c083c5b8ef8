-- How many recipients of a starting alert are written, kept on the alert: each chunk read it
-- as MAX(seq) of its recipients, which PostgreSQL, without statistics for a new alert's id,
-- answered by reading every recipient written so far (15-50 ms a chunk at 100,000; BENCHMARKS.md).
ALTER TABLE alerts ADD COLUMN prepared INTEGER NOT NULL DEFAULT 0;
UPDATE alerts SET prepared = (SELECT COALESCE(MAX(seq), 0) FROM alert_recipients r WHERE r.alert_id = alerts.id)
  WHERE prepare_cursor IS NOT NULL;
