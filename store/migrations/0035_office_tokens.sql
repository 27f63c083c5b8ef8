-- The token in the subject of our mail to an office ("[#K7Q2ZPAB]"), one per contact and office
-- address: the office's answer joins the contact by it when its mailer dropped In-Reply-To and
-- References, but only from that very address (lower case, trimmed, as the From it is compared
-- with). An erasure of the contact's citizen, and retention, delete the contact's tokens.
CREATE TABLE office_tokens (
  token TEXT PRIMARY KEY,
  contact_id TEXT NOT NULL REFERENCES contacts(id),
  address TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX office_tokens_contact_address ON office_tokens (contact_id, address);
