-- 0007_abandoned_at: when the last holder of an unfinished execution let go of it (released it,
-- was removed, or was declared dead), by the store's clock. A claim reads it (or, for a holder
-- whose lease ran out, that lease's expiry) and clears it: recovery's recoverDelay counts from
-- the abandonment of an interrupted attempt, not from its start.
ALTER TABLE executions ADD COLUMN abandoned_at BIGINT;
