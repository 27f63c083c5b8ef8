-- Citizens' data (GDPR): when a citizen or a contact had its personal data erased (on request
-- or by retention), and the secret that the STOP list hashes an erased number with, so the
-- number is refused by imports without being kept.
ALTER TABLE citizens ADD COLUMN erased_at BIGINT;
ALTER TABLE contacts ADD COLUMN erased_at BIGINT;

-- One row: made by the first process that needs it (Go fills it after migrating).
CREATE TABLE erasure_salt (
  id INTEGER PRIMARY KEY,
  salt TEXT NOT NULL
);

-- Retention reads resolved contacts by age, skipping those already erased.
CREATE INDEX contacts_retention ON contacts (received_at) WHERE erased_at IS NULL AND status = 'resolved';

-- An erasure removes a blob only when no attachment or preview still uses it.
CREATE INDEX attachments_sha256 ON attachments (sha256) WHERE sha256 <> '';
CREATE INDEX attachments_preview ON attachments (preview_sha256) WHERE preview_sha256 <> '';
