-- Email and fax: where each IMAP mailbox's poller stands. A mailbox is known by a key the
-- poller builds (comune, server, user, folder); uid_validity and last_uid follow RFC 3501:
-- a new UIDVALIDITY means the old UIDs are meaningless, so the poller starts over and relies
-- on the Message-ID dedupe of messages (channel, external_id) not to import anything twice.
CREATE TABLE imap_state (
  mailbox TEXT PRIMARY KEY,
  uid_validity BIGINT NOT NULL,
  last_uid BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
