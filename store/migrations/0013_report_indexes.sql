-- Reports read a range of days at a time. This index covers every column the summary groups
-- and sums, so a year of contacts is read from the index alone, in received_at order.
CREATE INDEX contacts_report ON contacts (received_at, channel, direction, comune, category, status, outcome,
  call_result, call_wait_seconds, call_talk_seconds);
-- A contact's first answer: the first outbound message of its thread, one index probe each.
CREATE INDEX messages_first_outbound ON messages (contact_id, created_at) WHERE direction = 'outbound';
