-- Reports read a range of days at a time; these keep a year of contacts well under a second.
-- Each contact's first answer (its first outbound message written by a person: automatic
-- answers have no author), kept on the contact so a report does not probe the messages of
-- every contact; filled for existing contacts here.
ALTER TABLE contacts ADD COLUMN first_response_at BIGINT;
UPDATE contacts SET first_response_at = (SELECT MIN(m.created_at) FROM messages m
  WHERE m.contact_id = contacts.id AND m.direction = 'outbound' AND m.author <> '');
-- Contacts by quarter hour (the reports' time unit) and channel, in index order: the grouping
-- streams, with every column it sums in the index.
CREATE INDEX contacts_report_time ON contacts ((received_at / 900000000), channel, comune, direction, call_result,
  call_wait_seconds, call_talk_seconds, received_at);
-- The mix by channel, comune, category and outcome, in index order.
CREATE INDEX contacts_report_mix ON contacts (channel, comune, category, status, outcome, received_at);
-- First response times of a range.
CREATE INDEX contacts_report_response ON contacts (received_at, channel, comune, first_response_at);
