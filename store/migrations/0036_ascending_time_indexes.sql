-- These indexes were declared descending, for the newest-first lists. A new row's time is the
-- largest yet, so in a descending index it goes in first place: SQLite's B-tree then splits
-- and rebalances its leftmost leaf with its neighbours, two to three pages written each
-- commit, where an ascending index appends to its last leaf (one page; see BENCHMARKS.md,
-- issue 14). Both databases read an ascending index backwards for newest first, and every
-- query orders all of these columns the same way, so the plans do not change.
DROP INDEX contacts_received;
CREATE INDEX contacts_received ON contacts (received_at, id);
DROP INDEX contacts_citizen;
CREATE INDEX contacts_citizen ON contacts (citizen_id, received_at);
DROP INDEX outbox_created;
CREATE INDEX outbox_created ON outbox (created_at);
DROP INDEX audit_log_at;
CREATE INDEX audit_log_at ON audit_log (at, id);
