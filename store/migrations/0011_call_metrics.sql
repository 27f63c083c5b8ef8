-- What happened to each call, for the operators and the reports: how it ended (answered,
-- abandoned, voicemail, callback), how long the caller waited before an answer or a hang-up,
-- the talk time from the answer to the hang-up, and where a live transfer sent it.
-- call_duration stays the provider's whole-call duration (menu and queue included).
ALTER TABLE contacts ADD COLUMN call_result TEXT;
ALTER TABLE contacts ADD COLUMN call_wait_seconds INTEGER;
ALTER TABLE contacts ADD COLUMN call_talk_seconds INTEGER;
ALTER TABLE contacts ADD COLUMN call_ended_at BIGINT;
ALTER TABLE contacts ADD COLUMN call_transferred_to TEXT;
