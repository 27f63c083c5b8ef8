-- A contact's provider id (an SMS's MessageSid, a call's CallSid) is the provider id of the
-- message that opened it, written in the same transaction: messages_external already finds it
-- and already refuses a second copy. contacts_external held the same key again, a random page
-- of a large index written for every new contact (BENCHMARKS.md, issue 14). Calls are now
-- found by their provider id through messages (UpdateCall, ContactIDByExternal).
DROP INDEX contacts_external;
