-- A disabled user cannot log in, and no token or session of theirs works.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
