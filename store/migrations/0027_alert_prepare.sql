-- A started alert's audience is written a chunk at a time (alertstore.PrepareAlert): one
-- statement for the whole audience held SQLite's only writer for seconds with a million
-- subscribers. prepare_cursor is the phone of the last subscriber written ('' before the
-- first), NULL once every recipient is written (and on alerts started before this migration);
-- prepared_at is when the last chunk was written, so a preparation whose process died is
-- found and given a new job.
ALTER TABLE alerts ADD COLUMN prepare_cursor TEXT;
ALTER TABLE alerts ADD COLUMN prepared_at BIGINT;
