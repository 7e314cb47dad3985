/** SQL of the PostgreSQL adapter for the audit log of operator actions. */
import { NOW_MS } from './migrate.js';

/** Append an operator action to the audit log, stamped with the store's clock. */
export const INSERT_AUDIT = `
INSERT INTO {schema}.audit_log (at, actor, action, execution_id, result_execution_id, batch_id, reason, details)
VALUES (${NOW_MS}, $1, $2, $3, $4, $5, $6, $7)`;

/** Audit entries matching every given filter (execution as subject or result), newest first, keyset-paged by id. */
export const SELECT_AUDIT = `
SELECT * FROM {schema}.audit_log
WHERE ($1::text IS NULL OR execution_id = $1::text OR result_execution_id = $1::text)
  AND ($2::text IS NULL OR batch_id = $2::text)
  AND ($4::text IS NULL OR actor = $4::text)
  AND ($5::text[] IS NULL OR action = ANY($5::text[]))
  AND ($6::bigint IS NULL OR at >= $6::bigint)
  AND ($7::bigint IS NULL OR at <= $7::bigint)
  AND ($8::bigint IS NULL OR id < $8::bigint)
ORDER BY id DESC LIMIT $3::int`;
