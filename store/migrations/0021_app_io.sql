-- App IO: subscribers may carry a codice fiscale (a subscription by fiscal code alone keeps
-- 'cf:' || fiscal_code in phone, the table's key, and is sent nothing by SMS); an alert names
-- its channels ('' = sms only, else a comma-separated list such as 'app_io,sms'); each
-- recipient keeps its fiscal code and the channel it was reached on ('' until sent).
ALTER TABLE subscribers ADD COLUMN fiscal_code TEXT NOT NULL DEFAULT '';
CREATE INDEX subscribers_fiscal_code ON subscribers (fiscal_code, comune) WHERE fiscal_code <> '';
ALTER TABLE alerts ADD COLUMN channels TEXT NOT NULL DEFAULT '';
ALTER TABLE alert_recipients ADD COLUMN fiscal_code TEXT NOT NULL DEFAULT '';
ALTER TABLE alert_recipients ADD COLUMN channel TEXT NOT NULL DEFAULT '';
CREATE INDEX alert_recipients_app_io ON alert_recipients (status, updated_at) WHERE channel = 'app_io';
-- Operators' App IO replies accepted and not yet processed are asked about by status.
CREATE INDEX messages_app_io ON messages (status, updated_at) WHERE channel = 'app_io';
