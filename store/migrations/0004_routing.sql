-- Routing and the operators' desk: where a transferred contact went, the audit log of operator
-- actions, and the record of closed-hours automatic answers (at most one per contact and
-- closed period, even with several replicas).

ALTER TABLE contacts ADD COLUMN office_phone TEXT;

-- The SLA sweep reads only contacts still waiting and not yet escalated.
CREATE INDEX contacts_sla ON contacts (sla_due_at) WHERE status = 'open' AND escalated = 0;
-- Operators' open counts (capacity) and "my contacts".
CREATE INDEX contacts_assignee ON contacts (assignee, status);

CREATE TABLE audit_log (
  id TEXT PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  contact_id TEXT,
  citizen_id TEXT,
  target TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_contact ON audit_log (contact_id, at);

CREATE TABLE auto_replies (
  contact_id TEXT NOT NULL REFERENCES contacts(id),
  period BIGINT NOT NULL,
  channel TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (contact_id, period)
);
