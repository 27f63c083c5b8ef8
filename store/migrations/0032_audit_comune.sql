-- The comune an audit entry about neither a contact nor a citizen concerns (an API key, a
-- canned answer, business hours): a scoped reader sees such an entry when it is of their
-- comuni. NULL for entries about a person (user administration, presence), which follow the
-- person concerned.
ALTER TABLE audit_log ADD COLUMN comune TEXT;
