-- The local outbox: outbound SMS kept here, and shown in the inbox, when no Twilio
-- credentials are configured, so nothing is silently dropped.
CREATE TABLE outbox (
  id TEXT PRIMARY KEY,
  channel TEXT NOT NULL,
  to_addr TEXT NOT NULL,
  from_addr TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX outbox_created ON outbox (created_at DESC);
