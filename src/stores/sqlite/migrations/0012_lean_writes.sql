-- 0012_lean_writes: fewer B-tree writes per execution. Two indexes of executions that every
-- execution paid for are made partial to the rows that need them, and attempts are kept
-- without a rowid. Each index entry written costs the hot path (an insert,
-- a status change) a B-tree write and WAL pages at commit.
--
-- The status listing's index leaves out succeeded executions, by far the most of the table:
-- a finished execution no longer adds an entry, it only loses its unfinished one. The listing
-- of succeeded executions reads executions_started newest first (most rows match, so a page
-- fills at once). A query uses this index only when its WHERE has the term
-- `status <> 'succeeded'` as written here (execution-filter.ts adds it when no status asked
-- for is succeeded): SQLite does not infer it from `status IN (...)`.
DROP INDEX executions_status_started;
CREATE INDEX executions_status_unsucceeded ON executions (status, started_at, id) WHERE status <> 'succeeded';

-- A family's index leaves out the roots (root_id = id: every execution that is not a replay).
-- Lookups by family ask for the root by its id (primary key) and its replays here, with the
-- term `root_id <> id` as written (execution-filter.ts, RESOLVE_ANCESTORS).
DROP INDEX executions_root;
CREATE INDEX executions_family ON executions (root_id) WHERE root_id <> id;

-- Attempt rows are small and always found by their key (an execution's attempts in order, one
-- attempt by execution, position and number): kept in their key's B-tree alone (WITHOUT ROWID),
-- each write of one changes one B-tree instead of the table and its key's index. Rebuilt, as
-- SQLite cannot change a table to WITHOUT ROWID in place: a store with millions of attempts
-- takes seconds to migrate, once. Steps stay as they are: their rows carry outputs, too big for
-- a B-tree of keys.
CREATE TABLE step_attempts_0012 (
  execution_id TEXT NOT NULL,
  position     INTEGER NOT NULL,
  attempt      INTEGER NOT NULL,
  status       TEXT NOT NULL,
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  error        TEXT,
  worker_id    TEXT,
  PRIMARY KEY (execution_id, position, attempt)
) STRICT, WITHOUT ROWID;
INSERT INTO step_attempts_0012 (execution_id, position, attempt, status, started_at, finished_at, error, worker_id)
  SELECT execution_id, position, attempt, status, started_at, finished_at, error, worker_id FROM step_attempts;
DROP TABLE step_attempts;
ALTER TABLE step_attempts_0012 RENAME TO step_attempts;
