-- Core schema: citizens and their identities, contacts with their message threads,
-- attachments (bytes in blobs, deduplicated by hash), users and API tokens.
-- Portable between SQLite and PostgreSQL: times are BIGINT Unix microseconds, flags INTEGER 0/1.

CREATE TABLE citizens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  comune TEXT,
  merged_into TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE identities (
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  citizen_id TEXT NOT NULL REFERENCES citizens(id),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (kind, value)
);
CREATE INDEX identities_citizen ON identities (citizen_id);

CREATE TABLE contacts (
  id TEXT PRIMARY KEY,
  channel TEXT NOT NULL,
  direction TEXT NOT NULL,
  comune TEXT,
  citizen_id TEXT NOT NULL REFERENCES citizens(id),
  from_addr TEXT NOT NULL,
  to_addr TEXT NOT NULL,
  from_name TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL DEFAULT '',
  category TEXT,
  queue TEXT,
  status TEXT NOT NULL,
  assignee TEXT,
  outcome TEXT,
  office TEXT,
  note TEXT NOT NULL DEFAULT '',
  external_id TEXT NOT NULL DEFAULT '',
  auto_reply INTEGER NOT NULL DEFAULT 0,
  priority INTEGER NOT NULL DEFAULT 0,
  escalated INTEGER NOT NULL DEFAULT 0,
  call_status TEXT,
  call_duration INTEGER,
  call_recording_url TEXT,
  call_answered_at BIGINT,
  call_operator TEXT,
  received_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  resolved_at BIGINT,
  sla_due_at BIGINT
);
CREATE INDEX contacts_received ON contacts (received_at DESC, id DESC);
CREATE INDEX contacts_citizen ON contacts (citizen_id, received_at DESC);
CREATE INDEX contacts_status_queue ON contacts (status, queue, received_at);
CREATE UNIQUE INDEX contacts_external ON contacts (channel, external_id) WHERE external_id <> '';

CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  contact_id TEXT NOT NULL REFERENCES contacts(id),
  direction TEXT NOT NULL,
  channel TEXT NOT NULL,
  from_addr TEXT NOT NULL DEFAULT '',
  to_addr TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL DEFAULT '',
  external_id TEXT NOT NULL DEFAULT '',
  message_id TEXT NOT NULL DEFAULT '',
  in_reply_to TEXT NOT NULL DEFAULT '',
  refs TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  author TEXT NOT NULL DEFAULT '',
  notes TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX messages_contact ON messages (contact_id, created_at);
CREATE UNIQUE INDEX messages_external ON messages (channel, external_id) WHERE external_id <> '';
CREATE INDEX messages_message_id ON messages (message_id) WHERE message_id <> '';

CREATE TABLE blobs (
  sha256 TEXT PRIMARY KEY,
  data BYTEA NOT NULL
);

CREATE TABLE attachments (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL REFERENCES messages(id),
  contact_id TEXT NOT NULL REFERENCES contacts(id),
  filename TEXT NOT NULL DEFAULT '',
  content_type TEXT NOT NULL DEFAULT '',
  size BIGINT NOT NULL DEFAULT 0,
  pages INTEGER,
  sha256 TEXT NOT NULL DEFAULT '',
  url TEXT NOT NULL DEFAULT '',
  preview_sha256 TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL
);
CREATE INDEX attachments_contact ON attachments (contact_id);
CREATE INDEX attachments_message ON attachments (message_id);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  comuni TEXT NOT NULL DEFAULT '',
  categories TEXT NOT NULL DEFAULT '',
  capacity INTEGER NOT NULL DEFAULT 5,
  presence TEXT NOT NULL DEFAULT 'offline',
  presence_since BIGINT NOT NULL DEFAULT 0,
  last_assigned_at BIGINT NOT NULL DEFAULT 0,
  deleted_at BIGINT,
  created_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
  hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  kind TEXT NOT NULL DEFAULT 'api',
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  revoked_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
