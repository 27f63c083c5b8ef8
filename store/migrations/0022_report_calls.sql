-- The summary's calls by quarter hour and result (store/reportstore Days): the inbound phone
-- contacts held apart from the rest, in quarter-hour order, with every column it sums, so
-- SQLite reads only the calls and groups them as it goes.
CREATE INDEX contacts_report_calls ON contacts (channel, direction, (received_at / 900000000), call_result,
  call_wait_seconds, call_talk_seconds, comune, received_at);
