-- An alert message's status callbacks name their recipient: the fan-out sends each message
-- with a callback address that carries its alert and seq, which the provider's signature
-- covers. Nothing looks a recipient up by the provider's id any more, so its index goes: the
-- ids are random, and every chunk of 200 results inserted into some 200 different leaf pages
-- of it, which doubled the cost of recording a chunk (BENCHMARKS.md, issue 14).
DROP INDEX alert_recipients_sid;
-- A callback that overtakes its send's record is held with its recipient, and applied by it.
ALTER TABLE alert_early_status ADD COLUMN alert_id TEXT;
ALTER TABLE alert_early_status ADD COLUMN seq BIGINT;
-- Holds from before name no recipient and can no longer be applied.
DELETE FROM alert_early_status;
