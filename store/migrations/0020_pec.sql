-- PEC (posta elettronica certificata) and delivery receipts.
-- contacts.pec and messages.pec hold the certification of an inbound PEC envelope as JSON
-- (identificativo, sender, time, provider, the envelope's SHA-256, the signature's verdict).
-- messages.delivery is what the recipient's side confirmed of an outbound message (accepted,
-- delivered, failed; NULL while unknown); delivery_due_at is when an outbound message that
-- waits for a delivery receipt is overdue without one.
ALTER TABLE contacts ADD COLUMN pec TEXT;
ALTER TABLE messages ADD COLUMN pec TEXT;
ALTER TABLE messages ADD COLUMN delivery TEXT;
ALTER TABLE messages ADD COLUMN delivery_due_at BIGINT;
CREATE INDEX messages_delivery_due ON messages (contact_id, delivery_due_at) WHERE delivery_due_at IS NOT NULL;
