-- alert_recipients_phone held (phone, status): every change of a recipient's status (claimed,
-- sent, delivered) moved its entry, a random page of a large index written two or three times
-- for each recipient of a fan-out. A phone number has one row per alert sent to it, so the two
-- queries by phone (a STOP cancelling what is still queued, an erasure) find them by the number
-- alone and read their status from the rows (BENCHMARKS.md, issue 14).
DROP INDEX alert_recipients_phone;
CREATE INDEX alert_recipients_phone ON alert_recipients (phone);
