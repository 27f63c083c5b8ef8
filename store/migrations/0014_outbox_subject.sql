-- The local outbox keeps email too (the demo has no relay): a reply's subject is part of it.
ALTER TABLE outbox ADD COLUMN subject TEXT NOT NULL DEFAULT '';
