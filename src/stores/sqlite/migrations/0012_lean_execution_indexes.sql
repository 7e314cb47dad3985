-- 0012_lean_execution_indexes: two indexes of executions that every execution paid for, made
-- partial to the rows that need them. Each index entry written costs the hot path (an insert,
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
