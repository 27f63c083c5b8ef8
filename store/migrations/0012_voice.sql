-- Calls reaching operators: where an operator answers (an E.164 number or a sip: URI; empty for
-- the browser softphone), and the recording of an answered call, played through the gateway.
ALTER TABLE users ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN call_recording_sid TEXT;
