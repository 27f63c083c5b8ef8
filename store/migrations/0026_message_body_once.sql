-- The message that opens a contact keeps its text once, as the contact's body (what the inbox
-- lists and searches): body_in_contact = 1 marks it, and its own body stays ''. Readers of a
-- thread take such a message's text from its contact (messageBody in store). A 3 KB email
-- written twice was a page more in every commit: see BENCHMARKS.md (issue 14, SMTP, second pass).
-- Rows written before keep their text in both places, with 0.
ALTER TABLE messages ADD COLUMN body_in_contact INTEGER NOT NULL DEFAULT 0;
