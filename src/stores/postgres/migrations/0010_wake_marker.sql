-- 0010_wake_marker: a wake-up that finds its execution running is kept, not dropped.
--
-- A wait looks (a signal in the mailbox, the end of what it waits on) and, finding nothing,
-- records `waiting` and releases. A wake-up in between finds the execution still `running`;
-- woken_at keeps it, so the write that records `waiting` makes the execution due at once
-- instead of waiting for a wake-up that already came. Cleared by that write and by a claim.
ALTER TABLE executions ADD COLUMN woken_at BIGINT;
