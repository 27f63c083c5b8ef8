-- Canned answers, editable in the browser: a comune's own (comune set) or shared by every comune
-- (comune ''); channels is a comma-separated list of channel kinds ('' = every channel).
CREATE TABLE canned_answers (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  text_it TEXT NOT NULL,
  text_en TEXT NOT NULL DEFAULT '',
  comune TEXT NOT NULL DEFAULT '',
  channels TEXT NOT NULL DEFAULT '',
  position INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX canned_answers_comune ON canned_answers (comune, position, id);
-- Each comune's business hours, seeded from the YAML once and then edited by admins: days is a
-- comma-separated list (mon..sun), open and close are HH:MM.
CREATE TABLE comune_hours (
  comune TEXT PRIMARY KEY,
  days TEXT NOT NULL,
  open_at TEXT NOT NULL,
  close_at TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
-- A comune's holidays: rule is MM-DD (every year), YYYY-MM-DD (that day only) or easter+N
-- (N days after Easter Sunday: easter+1 is Easter Monday).
CREATE TABLE comune_holidays (
  comune TEXT NOT NULL,
  rule TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (comune, rule)
);
-- What was seeded once (the built-in canned answers): deleting them all does not bring them back.
CREATE TABLE seeded (
  name TEXT PRIMARY KEY,
  at BIGINT NOT NULL
);
