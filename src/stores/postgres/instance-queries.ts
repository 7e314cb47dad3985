/** SQL of the PostgreSQL adapter for instances. */
import { NOW_MS } from './migrate.js';

/** Each flow's default instance ($1 ids, $2 flows), created once and never overwritten. */
export const INSERT_DEFAULT_INSTANCES = `
INSERT INTO {schema}.instances (id, flow, name, is_default, created_at, updated_at)
SELECT d.id, d.flow, 'default', TRUE, now.ms, now.ms
FROM unnest($1::text[], $2::text[]) AS d(id, flow), (SELECT ${NOW_MS} AS ms) now
ON CONFLICT (id) DO NOTHING`;

/** A new instance; an id already taken makes this a no-op. */
export const INSERT_INSTANCE = `
INSERT INTO {schema}.instances (id, flow, name, labels, enabled, config, secrets, is_default, created_at, updated_at)
SELECT $1::text, $2::text, $3::text, $4::text, $5::boolean, $6::text, $7::text, FALSE, now.ms, now.ms
FROM (SELECT ${NOW_MS} AS ms) now
ON CONFLICT (id) DO NOTHING`;

/** Replace an instance's mutable fields (its flow never changes). */
export const UPDATE_INSTANCE = `
UPDATE {schema}.instances SET name = $2::text, labels = $3::text, enabled = $4::boolean, config = $5::text,
  secrets = $6::text, updated_at = ${NOW_MS}
WHERE id = $1::text`;

/** Delete an instance. */
export const DELETE_INSTANCE = 'DELETE FROM {schema}.instances WHERE id = $1';

/** One instance by id. */
export const SELECT_INSTANCE = 'SELECT * FROM {schema}.instances WHERE id = $1';

/** Instances, of one flow ($1) or all, the default first within a flow. */
export const SELECT_INSTANCES = `
SELECT * FROM {schema}.instances WHERE ($1::text IS NULL OR flow = $1::text)
ORDER BY flow, is_default DESC, name, id LIMIT $2::int`;
