-- When the desk offered a call to its operator (marked it offered and asked Twilio to dial
-- them), in microseconds. It is also the offer's name: Twilio's callbacks about the offer carry
-- it, so a callback about an older offer of the same call is told apart. NULL until a call is
-- offered (and on calls offered before this migration: the sweep then goes by updated_at).
ALTER TABLE contacts ADD COLUMN call_offered_at BIGINT;
-- The calls waiting for their operator to be reached (assigned, queued or offered, not ended):
-- at most one per operator. The periodic sweep of expired offers reads them all; every read
-- names these same terms, so both databases use this index and not a scan of the contacts.
CREATE INDEX contacts_call_offers ON contacts (status, received_at) WHERE status = 'assigned' AND channel = 'phone'
  AND call_status IN ('queued', 'offered') AND call_ended_at IS NULL;
