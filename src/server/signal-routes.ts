/**
 * REST route that sends a signal (API keys required; `operate`, as starting a run):
 *   POST /api/executions/:id/signals/:name   the body is the payload: any JSON, or none (null)
 *
 * Answers 202 with the signal as stored (it waits in the execution's mailbox until a
 * `ctx.waitForSignal(name)` takes it, now or when the flow gets there); 404
 * EXECUTION_NOT_FOUND for an unknown execution, 409 for a finished one, 413 for a payload over
 * the engine's maxPayloadBytes, 400 for a body that is not JSON. Audited as the key's name.
 */
import type { FastifyPluginAsync } from 'fastify';
import { type Engine, InvalidOptionError } from '../index.js';
import { sendError } from './http-errors.js';

export const signalRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  // This plugin is encapsulated: the parser applies to this route only. Fastify's own refuses an
  // empty JSON body, which here is a signal without a payload.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, null);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new InvalidOptionError('payload', `The body must be JSON: ${(err as Error).message}`), undefined);
    }
  });

  app.post('/api/executions/:id/signals/:name', { config: { scope: 'operate' } }, async (request, reply) => {
    const { id, name } = request.params as { id: string; name: string };
    try {
      const signal = await engine.signal(id, name, request.body ?? null, { actor: request.principal?.name ?? 'api' });
      return reply.code(202).send(signal);
    } catch (err) {
      return sendError(reply, err, { executionId: id });
    }
  });
};
