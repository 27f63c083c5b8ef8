-- Hostile input on the alerts' SMS, and limits shared by every replica.

-- The last confirmation request sent to a number, whichever comune asked: at most one a day
-- reaches a number, however often any key repeats POST /api/v1/subscribers.
CREATE TABLE sms_confirmations (
  phone TEXT PRIMARY KEY,
  comune TEXT NOT NULL,
  sent_at BIGINT NOT NULL
);

-- When the confirmation request for this pending subscription was sent: a citizen's SI
-- confirms only subscriptions that asked within the last days (NULL: never asked, e.g. the
-- number said STOP or had a request from another comune that day).
ALTER TABLE subscribers ADD COLUMN asked_at BIGINT;

-- Rate limits every replica shares (the comuni API's per-key limit): the generic cell rate
-- algorithm keeps one time per bucket, the theoretical arrival time of the next request.
CREATE TABLE rate_limits (
  bucket TEXT PRIMARY KEY,
  tat BIGINT NOT NULL
);

-- Delivery callbacks of operators' outbound messages that came before the send's result was
-- written (Twilio can be faster than our commit, and may call another replica); applied when
-- the provider's id is recorded, purged after a while.
CREATE TABLE early_deliveries (
  channel TEXT NOT NULL,
  external_id TEXT NOT NULL,
  status TEXT NOT NULL,
  error TEXT NOT NULL DEFAULT '',
  at BIGINT NOT NULL,
  PRIMARY KEY (channel, external_id)
);
-- Whether any outbound message is being sent: a callback for an unknown id is held only then.
CREATE INDEX messages_outbound_in_flight ON messages (channel) WHERE direction = 'outbound' AND status = 'queued';
