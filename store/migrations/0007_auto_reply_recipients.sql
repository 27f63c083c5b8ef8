-- At most one automatic answer per address per day (RFC 3834 §2), on every replica: the last
-- time each address got one. Kept apart from auto_replies (one per contact and closed period),
-- which a stranger can multiply by writing new contacts.
CREATE TABLE auto_reply_recipients (
  channel TEXT NOT NULL,
  address TEXT NOT NULL,
  last_sent_at BIGINT NOT NULL,
  PRIMARY KEY (channel, address)
);
