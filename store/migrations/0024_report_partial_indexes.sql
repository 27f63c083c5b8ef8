-- Two report indexes hold only the contacts their reports read, so ingesting an SMS or an
-- email no longer writes them: the calls' index only inbound calls (every read of it names
-- channel = 'phone' AND direction = 'inbound'), the first responses' only contacts that have
-- one (every read names first_response_at IS NOT NULL; the entry is written when the first
-- answer is). Each index a new contact enters is a B-tree seek and a page to log per batch:
-- measured on the SMS webhook path, see BENCHMARKS.md (issue 14).
DROP INDEX contacts_report_calls;
CREATE INDEX contacts_report_calls ON contacts (channel, direction, (received_at / 900000000), call_result,
  call_wait_seconds, call_talk_seconds, comune, received_at) WHERE channel = 'phone' AND direction = 'inbound';
DROP INDEX contacts_report_response;
CREATE INDEX contacts_report_response ON contacts (received_at, channel, comune, first_response_at)
  WHERE first_response_at IS NOT NULL;
