-- The notification API for comuni: API keys, SMS subscriptions with their consent trail, the
-- opt-out list, alerts and their per-recipient delivery state, and the small tables the
-- fan-out needs to pace itself and survive crashes across replicas.

-- A comune's API key; only the SHA-256 of the key is kept.
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  comune TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);
CREATE INDEX api_keys_comune ON api_keys (comune);

-- One subscription per comune and number. status: pending (waits for the citizen's SI),
-- confirmed, stopped (the citizen said STOP), removed (the comune deleted it).
-- topics is a comma-separated list; '' means every alert of the comune.
CREATE TABLE subscribers (
  comune TEXT NOT NULL,
  phone TEXT NOT NULL,
  status TEXT NOT NULL,
  topics TEXT NOT NULL DEFAULT '',
  lang TEXT NOT NULL DEFAULT 'it',
  source TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  confirmed_at BIGINT,
  PRIMARY KEY (comune, phone)
);
CREATE INDEX subscribers_phone ON subscribers (phone);
CREATE INDEX subscribers_comune_status ON subscribers (comune, status);

-- Numbers that said STOP (or that Twilio reports unsubscribed, 21610). Nothing is sent to them
-- until they text ISCRIVI themselves; imports and API calls never remove a row from here.
CREATE TABLE sms_optouts (
  phone TEXT PRIMARY KEY,
  via TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

-- Every change of consent, for GDPR: what, how (sms, api, import, carrier), by whom (the
-- number that texted, the API key id, the import file) and when.
CREATE TABLE subscriber_consents (
  id TEXT PRIMARY KEY,
  comune TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL,
  action TEXT NOT NULL,
  via TEXT NOT NULL,
  actor TEXT NOT NULL DEFAULT '',
  topics TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  at BIGINT NOT NULL
);
CREATE INDEX subscriber_consents_phone ON subscriber_consents (phone, at);

-- Inbound SMS commands already acted on, by MessageSid: a redelivered webhook gets the same
-- answer and changes nothing.
CREATE TABLE sms_commands (
  message_sid TEXT PRIMARY KEY,
  phone TEXT NOT NULL,
  keyword TEXT NOT NULL,
  handled INTEGER NOT NULL,
  reply TEXT NOT NULL DEFAULT '',
  at BIGINT NOT NULL
);

-- An alert. status: scheduled, sending, sent (every recipient handed over or failed),
-- cancelled, superseded (a CAP Update replaced it), expired.
CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  comune TEXT NOT NULL,
  category TEXT NOT NULL,
  message TEXT NOT NULL,
  message_en TEXT NOT NULL DEFAULT '',
  text_it TEXT NOT NULL,
  text_en TEXT NOT NULL,
  topics TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  gsm7_safe INTEGER NOT NULL DEFAULT 0,
  segments INTEGER NOT NULL DEFAULT 0,
  encoding TEXT NOT NULL DEFAULT '',
  recipients INTEGER NOT NULL DEFAULT 0,
  source TEXT NOT NULL,
  created_by TEXT NOT NULL DEFAULT '',
  external_ref TEXT,
  replaces TEXT,
  send_at BIGINT NOT NULL,
  expires_at BIGINT,
  started_at BIGINT,
  finished_at BIGINT,
  cancelled_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX alerts_comune_created ON alerts (comune, created_at, id);
CREATE INDEX alerts_status_send ON alerts (status, send_at);
CREATE UNIQUE INDEX alerts_external_ref ON alerts (comune, external_ref) WHERE external_ref IS NOT NULL;

-- One row per recipient of an alert, created in one statement when the alert starts.
-- status: queued, sending (marked, and committed, before the provider is called), sent,
-- delivered, failed, cancelled. owner is the sender process while sending.
CREATE TABLE alert_recipients (
  alert_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  batch INTEGER NOT NULL,
  phone TEXT NOT NULL,
  lang TEXT NOT NULL DEFAULT 'it',
  status TEXT NOT NULL,
  owner TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  sid TEXT,
  error_code TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  claimed_at BIGINT,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (alert_id, seq)
);
CREATE INDEX alert_recipients_batch ON alert_recipients (alert_id, batch, status, seq);
CREATE UNIQUE INDEX alert_recipients_sid ON alert_recipients (sid) WHERE sid IS NOT NULL;
CREATE INDEX alert_recipients_phone ON alert_recipients (phone, status);
CREATE INDEX alert_recipients_sending ON alert_recipients (status, claimed_at) WHERE status = 'sending';

-- The batches of an alert: one River job works one batch; owner is the process working it.
CREATE TABLE alert_batches (
  alert_id TEXT NOT NULL,
  batch INTEGER NOT NULL,
  status TEXT NOT NULL,
  owner TEXT,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (alert_id, batch)
);
CREATE INDEX alert_batches_status ON alert_batches (status, alert_id);

-- Live sender processes: a recipient or batch owned by a process whose heartbeat stopped is
-- an orphan of a crash.
CREATE TABLE alert_senders (
  id TEXT PRIMARY KEY,
  started_at BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL
);

-- The deployment-wide send schedule: next_at is the first free send slot (Unix microseconds).
CREATE TABLE alert_pacer (
  id TEXT PRIMARY KEY,
  next_at BIGINT NOT NULL
);

-- Status callbacks that arrived before the send's result was written (Twilio can be faster
-- than our commit); applied when the sid is recorded, purged after a day.
CREATE TABLE alert_early_status (
  sid TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  error_code TEXT NOT NULL DEFAULT '',
  at BIGINT NOT NULL
);
