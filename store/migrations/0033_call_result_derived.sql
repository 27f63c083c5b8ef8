-- Whether call_result was derived by the store (answered once an answer is known, abandoned
-- when the call ended before any) rather than stated by the provider (Twilio's QueueResult, a
-- voicemail). Call events arrive out of order: a derived "abandoned" must give way to an answer
-- reported after the hang-up, a provider's own result must not. Rows written before this column
-- count as stated by the provider, so their recorded figures stay as they are.
ALTER TABLE contacts ADD COLUMN call_result_derived INTEGER NOT NULL DEFAULT 0;
