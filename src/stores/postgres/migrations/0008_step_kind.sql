-- 0008_step_kind: what a step is (today only 'run', a function attempted under a retry policy),
-- recorded by the step's first write and never changed after, so steps of other kinds can share
-- the step machine and its positional check. Rows written before are all 'run'.
ALTER TABLE steps ADD COLUMN kind TEXT NOT NULL DEFAULT 'run';
