-- Running the centre from the browser: a user's own preferences (language, the presence a
-- login starts with), names for API tokens made for scripts, and how much each comune API key
-- is used.
ALTER TABLE users ADD COLUMN lang TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN default_presence TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
ALTER TABLE api_keys ADD COLUMN requests BIGINT NOT NULL DEFAULT 0;
