/**
 * The JSON viewer's server side, for any payload of an execution (views/payload-refs.ts names them):
 * - GET /executions/:id/payloads/:ref/download: the raw JSON, byte for byte what the store
 *   holds (`JSON.stringify` of the decoded value gives back the stored text), as an attachment;
 *   "Copy" fetches the same URL.
 * - GET /executions/:id/payloads/:ref/node?path=<JSON Pointer>[&from=<n>]: the body of one node
 *   as an HTML fragment (its first chunk of children, or a long string whole), or with `from`
 *   the list items of the chunk starting there. Big payloads reach the page this way, one
 *   opened subtree at a time, and are never cut.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Engine } from '../../../index.js';
import { sendFragment } from '../render.js';
import { JsonChildItems, JsonNodeBody, payloadUrl } from '../views/json-viewer.js';
import { isContainer, valueAt } from '../views/json-viewer-tree.js';
import { payloadByRef } from '../views/payload-refs.js';

interface PayloadParams {
  id: string;
  ref: string;
}

export function registerPayloadRoutes(app: FastifyInstance, engine: Engine): void {
  app.get<{ Params: PayloadParams }>('/executions/:id/payloads/:ref/download', async (request, reply) => {
    const { id, ref } = request.params;
    const value = payloadByRef(await engine.executions.get(id), ref);
    if (value === undefined) return noPayload(reply);
    return reply
      .type('application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="${fileName(id, ref)}"`)
      .send(JSON.stringify(value));
  });

  app.get<{ Params: PayloadParams; Querystring: { path?: string; from?: string } }>(
    '/executions/:id/payloads/:ref/node',
    async (request, reply) => {
      const { id, ref } = request.params;
      const { path = '', from } = request.query;
      if (typeof path !== 'string' || (from !== undefined && !/^\d{1,9}$/.test(from))) {
        return reply.code(400).type('text/plain; charset=utf-8').send('path must be a JSON Pointer, from a number');
      }
      const payload = payloadByRef(await engine.executions.get(id), ref);
      const node = payload === undefined ? { found: false as const } : valueAt(payload, path);
      if (!node.found) return noPayload(reply);
      const base = payloadUrl({ executionId: id, ref });
      if (from === undefined) return sendFragment(reply, <JsonNodeBody value={node.value} path={path} base={base} />);
      if (!isContainer(node.value)) return noPayload(reply);
      return sendFragment(
        reply,
        <JsonChildItems value={node.value} path={path} base={base} from={Number(from)} depth={1} openDepth={0} />,
      );
    },
  );
}

function noPayload(reply: FastifyReply): FastifyReply {
  return reply.code(404).type('text/plain; charset=utf-8').send('No such payload in this execution');
}

/** `<execution>-<payload>.json`, with anything a header or a file system could choke on replaced. */
function fileName(id: string, ref: string): string {
  return `${id}-${ref}.json`.replace(/[^\w.-]/g, '_');
}
