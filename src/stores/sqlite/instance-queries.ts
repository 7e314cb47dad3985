/** SQL of the SQLite adapter for instances, with their parameters. */
import type { NewInstance } from '../../core/store/store.js';

/** A flow's default instance, created once and never overwritten. */
export const INSERT_DEFAULT_INSTANCE = `
INSERT INTO instances (id, flow, name, is_default, created_at, updated_at)
VALUES (@id, @flow, 'default', 1, @now, @now)
ON CONFLICT (id) DO NOTHING`;

export const INSERT_INSTANCE = `
INSERT INTO instances (id, flow, name, labels, enabled, config, secrets, is_default, created_at, updated_at)
VALUES (@id, @flow, @name, @labels, @enabled, @config, @secrets, 0, @now, @now)
ON CONFLICT (id) DO NOTHING`;

export const UPDATE_INSTANCE = `
UPDATE instances SET name = @name, labels = @labels, enabled = @enabled, config = @config, secrets = @secrets,
  updated_at = @now
WHERE id = @id`;

export const DELETE_INSTANCE = 'DELETE FROM instances WHERE id = ?';
export const SELECT_INSTANCE = 'SELECT * FROM instances WHERE id = ?';
export const SELECT_INSTANCES = `
SELECT * FROM instances WHERE (@flow IS NULL OR flow = @flow) ORDER BY flow, is_default DESC, name, id LIMIT @limit`;

export function instanceParams(i: NewInstance, now: number): Record<string, unknown> {
  return {
    id: i.id,
    flow: i.flow,
    name: i.name,
    labels: JSON.stringify(i.labels),
    enabled: i.enabled ? 1 : 0,
    config: i.configJson,
    secrets: i.secretsJson,
    now,
  };
}
