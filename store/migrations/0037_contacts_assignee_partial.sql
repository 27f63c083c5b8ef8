-- contacts_assignee holds only contacts that have an assignee. Every contact arrives without
-- one, and its (NULL, 'open') entry was a page written in every commit of new contacts for a
-- lookup nobody makes: the queues' reads of open, unassigned contacts use
-- contacts_status_queue. The reads by operator (assignee = ?) imply assignee IS NOT NULL, and
-- both databases use the partial index for them (BENCHMARKS.md, issue 14).
DROP INDEX contacts_assignee;
CREATE INDEX contacts_assignee ON contacts (assignee, status) WHERE assignee IS NOT NULL;
