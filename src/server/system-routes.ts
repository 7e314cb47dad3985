/**
 * REST routes over end systems and their circuits (API keys required):
 *   GET  /api/systems                          read   every system, by name: `{ items: [SystemView] }`
 *   GET  /api/systems/:name                    read   one system (404 SYSTEM_NOT_FOUND when unknown)
 *   GET  /api/systems/:name/parked?limit=&after=   read   its parked executions in release order:
 *                                                     `{ items: [ParkedView], next }` (next: the `after` of the next page)
 *   POST /api/systems/:name/pause   { reason }                 admin  open the circuit by hand
 *   POST /api/systems/:name/resume  { reason, replayFailed? }  admin  close it: `{ system, batch }`
 *
 * Pausing or resuming changes what every flow calling the system does, so it needs admin, as
 * instance and schedule changes do; the reason is required (400 INVALID_OPTION without one) and
 * audited with the key's name.
 */
import type { FastifyPluginAsync } from 'fastify';
import { type Engine, InvalidOptionError } from '../index.js';
import { bodyObject, intParam } from './query-params.js';

type Params = { name: string };

/** The reason of a pause or resume: text the engine checks is not empty. */
function reasonOf(body: Record<string, unknown>): string {
  const reason = body.reason;
  if (typeof reason !== 'string') {
    throw new InvalidOptionError('reason', 'reason is required: say why, for the audit log (a non-empty string)');
  }
  return reason;
}

export const systemRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.get('/api/systems', { config: { scope: 'read' } }, async () => ({ items: await engine.systems.list() }));

  app.get('/api/systems/:name', { config: { scope: 'read' } }, async (request) =>
    engine.systems.get((request.params as Params).name),
  );

  app.get('/api/systems/:name/parked', { config: { scope: 'read' } }, async (request) => {
    const { name } = request.params as Params;
    const limit = intParam(request.query, 'limit', { min: 1, max: 1000 });
    const after = intParam(request.query, 'after', { min: 0, max: Number.MAX_SAFE_INTEGER });
    await engine.systems.get(name); // an unknown system is 404, not an empty page
    return engine.systems.parked(name, {
      ...(limit !== undefined ? { limit } : {}),
      ...(after !== undefined ? { after } : {}),
    });
  });

  app.post('/api/systems/:name/pause', { config: { scope: 'admin' } }, async (request) => {
    const body = bodyObject(request.body, ['reason']);
    return engine.systems.pause((request.params as Params).name, {
      reason: reasonOf(body),
      actor: request.principal?.name ?? 'api',
    });
  });

  app.post('/api/systems/:name/resume', { config: { scope: 'admin' } }, async (request) => {
    const body = bodyObject(request.body, ['reason', 'replayFailed']);
    if (body.replayFailed !== undefined && typeof body.replayFailed !== 'boolean') {
      throw new InvalidOptionError(
        'replayFailed',
        `replayFailed must be true or false (got ${JSON.stringify(body.replayFailed)})`,
      );
    }
    return engine.systems.resume((request.params as Params).name, {
      reason: reasonOf(body),
      actor: request.principal?.name ?? 'api',
      replayFailed: body.replayFailed === true,
    });
  });
};
