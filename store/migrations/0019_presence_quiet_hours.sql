-- The presence an operator last chose themselves: logout and session expiry set them offline
-- without touching it, and their next login restores it.
ALTER TABLE users ADD COLUMN chosen_presence TEXT;
-- An urgent alert ignores alerts.quiet_hours; quiet_held marks one the quiet hours postponed.
ALTER TABLE alerts ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN quiet_held INTEGER NOT NULL DEFAULT 0;
